"""`python -m service` is the `vertaal` command."""

from service.cli import main

main()

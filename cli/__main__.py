"""`python -m cli` is the `vertaal` command."""

from cli.main import main

main()

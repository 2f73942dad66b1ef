"""The Sentinel URL form, read the same way by redis-py, Celery and the rate limiter.

The failover itself, with real processes, is in test_failover.py.
"""

import pytest
from pydantic import ValidationError

from service.limits import limits_storage
from workers.celery_app import broker, create_celery
from workers.connections import SentinelURL, sentinel_url
from workers.settings import Settings

URL = "sentinel://app:p%40ss@h1:26379,h2:26380,h3:26381/mymaster/2"


def test_a_sentinel_url_names_the_sentinels_the_master_the_database_and_credentials() -> None:
    assert SentinelURL.parse(URL) == SentinelURL(
        sentinels=(("h1", 26379), ("h2", 26380), ("h3", 26381)),
        master="mymaster",
        db=2,
        username="app",
        password="p@ss",
    )
    assert sentinel_url("redis://h1:6379/0") is None


@pytest.mark.parametrize(
    "url",
    [
        "sentinel://h1/mymaster/0",  # no port
        "sentinel://h1:26379/mymaster",  # no database
        "sentinel://h1:26379/mymaster/zero",
        "sentinel://h1:26379//0",  # no master name
        "sentinel://h1:26379,h2:26379/mymaster/0?ssl=true",
        "http://h1:6379/0",
    ],
)
def test_settings_refuse_a_malformed_redis_url_saying_what_is_expected(url: str) -> None:
    with pytest.raises(ValidationError, match=r"redis://|sentinel://"):
        Settings(redis_url=url)
    with pytest.raises(ValidationError):
        Settings(cache_url=url)


def test_celery_gets_kombus_sentinel_form_with_the_same_master_and_credentials() -> None:
    url, options = broker(URL)
    assert url == ";".join(
        f"sentinel://app:p%40ss@{host}/2" for host in ("h1:26379", "h2:26380", "h3:26381")
    )
    assert options["master_name"] == "mymaster"
    assert options["sentinel_kwargs"]["password"] == "p@ss"
    app = create_celery(Settings(redis_url=URL))
    assert app.conf.broker_transport_options["master_name"] == "mymaster"
    assert app.conf.broker_transport_options["visibility_timeout"] == 7200
    assert broker("redis://h1:6379/0") == ("redis://h1:6379/0", {})


def test_the_rate_limiter_gets_its_own_sentinel_form() -> None:
    uri, options = limits_storage(URL)
    assert uri == "redis+sentinel://h1:26379,h2:26380,h3:26381/mymaster"
    assert options["db"] == 2 and options["password"] == "p@ss"
    assert options["use_replicas"] is False, "counters are read where they are written"

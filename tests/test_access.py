"""Who may ask what (service/access.py): the same-site guard's reading of the Origin header."""

from conftest import LOCAL
from fastapi.testclient import TestClient

from callsort.service.access import origin_host

KEY = "access-admin-key-0123456789"


def test_an_origin_that_is_no_url_is_refused_not_a_500(tfidf_dir, tmp_path):
    """Issue 32 (found by tests/test_fuzz.py): 'Origin: http://[' made urlsplit raise, a 500 on every write."""
    from callsort.config import AsrConfig
    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    app = create_app(tfidf_dir, ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY), AsrConfig(use_cache=False),
                     recordings=False)
    client = TestClient(app, base_url=LOCAL, headers={"x-api-key": KEY})
    for origin in ("http://[", "http://[::1", "http://[zz]:80"):
        answer = client.post("/v1/classify", json={"text": "my AC is out"}, headers={"origin": origin})
        assert answer.status_code == 403 and "another origin" in answer.json()["detail"], (origin, answer.text)
    assert client.post("/v1/classify", json={"text": "my AC is out"}, headers={"origin": LOCAL}).status_code == 200
    assert origin_host("http://[") is None and origin_host("HTTP://LocalHost:8000") == "localhost:8000"

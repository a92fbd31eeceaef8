from tests.forum.conftest import api, backend, browser, community, index_now, search_app  # noqa: F401

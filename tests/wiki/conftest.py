"""Communities made through the service (the communities tests' fixture)."""

from tests.communities.conftest import community  # noqa: F401 - shared fixture

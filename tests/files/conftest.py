"""Files fixtures: the app storing files in the test's own directory, a restricted team, what is stored."""

from pathlib import Path

import pytest

from tests.communities.conftest import community  # noqa: F401 - shared fixture


@pytest.fixture
def files_app(app, settings, tmp_path):
    """The app storing files in a directory of this test's own, with small limits."""
    app.state.settings = settings.model_copy(update={"data_dir": tmp_path, "file_max_bytes": 64 * 1024,
                                                     "community_file_quota_bytes": 200 * 1024})
    return app


@pytest.fixture
async def team(db, make_person, community, member):  # noqa: F811 - the fixture imported above
    owner = await make_person("Owner Ou", username="owner")
    made = await community(owner, "設計組", access="restricted", members=[member])
    return made, owner


def stored(tmp_path: Path) -> list[Path]:
    """Every file under the store, temporary ones included."""
    base = tmp_path / "files"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []

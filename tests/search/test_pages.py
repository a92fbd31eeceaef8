"""The /search page: tabs per kind, highlighted results, did-you-mean, as-you-type suggestions, the header box."""

from __future__ import annotations

import pytest


@pytest.fixture
async def signed_in(search_app, client, login, member, make_person, index_now):
    await make_person("林志明", username="zhiming", name_latin="Lin Chih-ming", title="軟體工程師",
                      about_md="負責預拌混凝土工廠的排程軟體。")
    await index_now()
    await login(client, member)
    return client


async def test_search_page_shows_tabs_and_highlighted_results(signed_in):
    response = await signed_in.get("/search", params={"q": "软件"})
    assert response.status_code == 200
    page = response.text
    assert "林志明" in page and "<mark>軟體</mark>" in page  # found in Simplified, marked in the text as written
    assert 'aria-current="page">All (1)' in page and "People (1)" in page
    assert "1 result" in page


async def test_search_page_in_chinese(signed_in):
    signed_in.headers["Accept-Language"] = "zh-Hant"
    response = await signed_in.get("/search", params={"q": "預拌"})
    assert "1 筆結果" in response.text and "全部 (1)" in response.text


async def test_htmx_gets_only_the_results(signed_in):
    response = await signed_in.get("/search", params={"q": "lin"},
                                   headers={"HX-Request": "true", "HX-Target": "search-results"})
    assert "林志明" in response.text and "<html" not in response.text


async def test_no_results_and_did_you_mean(signed_in):
    response = await signed_in.get("/search", params={"q": "engineeer"})
    assert "Nothing matches" in response.text
    response = await signed_in.get("/search", params={"q": "Chih-minh"})
    assert "林志明" in response.text  # a typo in a name still finds the person


async def test_suggestions_fragment(signed_in):
    response = await signed_in.get("/search/suggest", params={"q": "linz"})
    assert response.status_code == 200 and 'href="/people/' in response.text and "林志明" in response.text
    assert (await signed_in.get("/search/suggest", params={"q": ""})).text.strip() == ""


async def test_every_page_has_the_search_box(signed_in):
    page = (await signed_in.get("/people")).text
    assert 'action="/search"' in page and 'name="q"' in page


async def test_bad_filter_on_the_page_is_a_clear_error_not_a_crash(signed_in):
    response = await signed_in.get("/search", params={"q": "x", "kind": "spaceship"})
    assert response.status_code == 422 and "kind" in response.text


async def test_signed_out_visitors_are_sent_to_sign_in(search_app, client):
    response = await client.get("/search", params={"q": "x"})
    assert response.status_code in (303, 401)

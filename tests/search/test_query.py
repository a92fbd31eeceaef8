"""Parsing what people type: phrases, exclusions, odd input, and the same folding as documents."""

from socius.search.query import MAX_UNITS, parse


def test_words_phrases_and_exclusions():
    parsed = parse('Ideas "創新構想" -concrete -"北京 旅游"')
    assert [u.type for u in parsed.must] == ["word", "phrase"]
    assert parsed.must[0].term == "idea" and parsed.must[0].raw == "ideas"
    assert parsed.must[1].bigrams == ("创新", "新构", "构想")  # folded like documents
    assert [u.type for u in parsed.must_not] == ["word", "phrase"]


def test_han_runs_carry_words_and_bigrams():
    (unit,) = parse("預拌混凝土").must
    assert unit.type == "han" and unit.words == ("预拌", "混凝土") and unit.bigrams == ("预拌", "拌混", "混凝", "凝土")


def test_stop_words_are_dropped_unless_alone():
    assert [u.raw for u in parse("the ideas of the team").must] == ["ideas", "team"]
    assert [u.raw for u in parse("the").must] == ["the"]


def test_odd_input_is_just_text():
    assert parse('"unbalanced').must[0].raw == "unbalanced"
    assert [u.raw for u in parse("title:foo AND (bar OR baz)^2").must] == ["title", "foo", "bar", "baz", "2"]
    assert parse("🙂 \x00 ''").empty
    assert parse("-").empty and parse('""').empty
    assert len(parse(" ".join(f"w{i}" for i in range(1000))).must) == MAX_UNITS
    assert len(parse("林" * 10_000).must[0].bigrams) == 1  # cut and de-duplicated

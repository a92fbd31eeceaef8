"""The text pipeline: the same terms for Traditional and Simplified, segmented words and bigrams, stems."""

from socius.core import text


def terms(value: str) -> text.Analysed:
    return text.analyse(value)


def test_traditional_and_simplified_fold_to_the_same_terms():
    # From the seeds: "創新" and "構想" appear in Traditional; people type either script.
    assert terms("創新構想") == terms("创新构想")
    assert terms("創新構想").words == ["创新", "构想"]  # not "創新構/想", which the Simplified dictionary gives
    assert terms("預拌混凝土").words == ["预拌", "混凝土"]


def test_taiwan_phrases_become_mainland_phrases():
    assert terms("軟體").words == ["软件"]
    assert terms("網路").words == ["网络"]
    assert terms("資訊").words == ["信息"]


def test_han_text_is_also_indexed_as_overlapping_bigrams():
    assert terms("北京旅游").bigrams == ["北京", "京旅", "旅游"]
    # Runs are kept apart, so a phrase cannot match across the English word between them.
    assert terms("創新 AI 構想").bigrams == ["创新", text.RUN_BREAK, "构想"]


def test_seed_sentence_segments_into_dictionary_words():
    sentence = "社群事業聯繫人群及專業協助，無論是客戶、"
    words = terms(sentence).words
    assert "专业" in words and "协助" in words and "联系" in words
    assert "，" not in words and "、" not in words


def test_english_words_are_stemmed_and_numbers_kept():
    assert terms("Ideas for Communities").words == ["idea", "for", "communiti"]
    assert terms("idea").words == terms("ideas").words
    assert terms("CEMEX 2004 mp3").words == ["cemex", "2004", "mp3"]


def test_width_and_case_are_folded():
    assert terms("ＣＥＭＥＸ").words == ["cemex"]  # full-width letters, as typed by a Chinese input method
    assert terms("Ｄ中心").words[0] == "d"


def test_mixed_text_keeps_the_order_of_words():
    assert terms("MIT 的 D-Center 創新中心").words == ["mit", "的", "d", "center", "创新", "中心"]


def test_control_characters_and_emoji_produce_no_terms():
    empty = terms("\x00\x07🙂🙂")
    assert empty.words == [] and empty.bigrams == []


def test_documents_are_indexed_by_the_terms_a_query_is_searched_with():
    # Documents take the batch path (strings, built without per-term lists); queries take `analyse`. A one-character
    # run first, between and last, kana, a text with no Han and an empty text: where the batch path joins runs.
    samples = ["我 北京旅游，項目進度 了", "創新 AI 構想 ideas", "カタカナ 與 한국어 字", "", "only english here",
               "的", "預拌混凝土 𠀀𠀁 專業協助 a 一"]
    for sample, indexed in zip(samples, text.analyse_many(samples), strict=True):
        queried = text.analyse(sample)
        assert indexed.words.split() == queried.words
        assert indexed.bigrams.split() == queried.bigrams
        assert indexed.latin.split() == queried.latin
    assert text.analyse_many(["我 北京旅游"])[0].bigrams == f"我 {text.RUN_BREAK} 北京 京旅 旅游"
    assert text.analyse_many(["カタカナ 字"])[0].bigrams == f"カタ タカ カナ {text.RUN_BREAK} 字"

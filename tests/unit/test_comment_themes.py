"""Comment themes: per language, counted per comment, with the praise/complaint split."""

from integration.feedback.themes import Comment, extract_themes, language_of, terms_of


def test_german_forms_of_one_word_are_one_theme_counted_once_per_comment():
    themes = extract_themes([
        Comment("de-DE", "Die Verpackung war beschädigt. Verpackung kaputt!", -1),
        Comment("de", "Tolle Verpackungen und schnelle Lieferung", 1),
        Comment("de", "Lieferung war schnell", 1),
        Comment("de", "Zelt nicht wasserdicht", -1),
    ])
    by_term = {t.term: t for t in themes["de"]}
    assert by_term["Verpackung"].comments == 2  # twice in one comment counts once
    assert (by_term["Verpackung"].praise, by_term["Verpackung"].complaints) == (1, 1)
    assert by_term["Lieferung"].comments == 2 and by_term["Lieferung"].share == 0.5
    assert "Zelt" not in by_term  # one comment is not a theme
    assert "die" not in {t.term.lower() for t in themes["de"]}  # stopwords never are


def test_japanese_and_chinese_are_segmented_into_content_words():
    ja = [term for _, term in terms_of("ja", "梱包がとても丁寧で、配送も早かったです。")]
    assert {"梱包", "配送", "早い"} <= set(ja)
    assert not {"が", "で", "です", "も"} & set(ja)
    zh = [term for _, term in terms_of("zh", "包装很好\uff0c但是防水性能不足\uff0c配送很快")]
    assert {"包装", "配送", "性能"} <= set(zh)
    assert "但是" not in zh and "\uff0c" not in zh


def test_themes_rank_by_comments_then_term_and_keep_top():
    comments = [Comment("fr", "livraison rapide emballage soigné", 1) for _ in range(3)]
    comments += [Comment("fr", "emballage abîmé", -1)]
    themes = extract_themes(comments, top=2)["fr"]
    assert [(t.term, t.comments) for t in themes] == [("emballage", 4), ("livraison", 3)]
    assert themes[0].complaints == 1 and themes[0].praise == 3


def test_unknown_languages_and_empty_comments_are_left_out():
    assert extract_themes([Comment("ru", "Быстрая доставка"), Comment("de", "  "), Comment(None, "x y")]) == {}
    assert language_of("zh_CN") == "zh" and language_of("pt-BR") is None

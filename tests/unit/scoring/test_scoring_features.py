from crisiswatch.scoring.features import NOT, FeatureConfig, words

CFG = FeatureConfig(negation=True, negation_scope=1, intensifiers=True)


def test_negation_marks_the_governed_word():
    out = words(["不", "好吃"], CFG)
    assert out == ["不", NOT + "好吃"]
    assert "好吃" not in out


def test_negation_scope_ends_at_punctuation():
    out = words(["没有", "，", "好吃"], FeatureConfig(negation_scope=3))
    assert NOT + "好吃" not in out and "好吃" in out


def test_double_negation_cancels():
    out = words(["不是", "不", "好"], CFG)
    assert "好" in out and NOT + "好" not in out


def test_emphatic_negation_marks_and_repeats():
    out = words(["一点", "也", "不", "满意"], CFG)
    assert out.count(NOT + "满意") == 1
    out = words(["一点也不", "满意"], CFG)
    assert out.count(NOT + "满意") == 2


def test_intensifier_repeats_the_next_word():
    assert words(["太", "难吃", "了"], CFG).count("难吃") == 2
    assert words(["太", "难吃", "了"], FeatureConfig(intensifiers=False)).count("难吃") == 1


def test_negation_off():
    assert words(["不", "好吃"], FeatureConfig(negation=False)) == ["不", "好吃"]


def test_punctuation_and_spaces_dropped_but_marks_kept():
    assert words([" ", "，", "好", "!", "?", "。"], CFG) == ["好", "!", "?"]


def test_numbers_folded():
    assert words(["等", "了", "45", "分钟"], CFG) == ["等", "了", "<NUM>", "分钟"]


def test_bigrams():
    out = words(["服务", "差"], FeatureConfig(bigrams=True))
    assert "服务|差" in out

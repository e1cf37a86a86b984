import pytest

from crisiswatch.scoring import risk
from crisiswatch.vocabulary import Author, Engagement

W = risk.RiskWeights()


def test_human_numbers():
    assert risk.human(1_234_567) == "1.2M"
    assert risk.human(35_400) == "35.4K"
    assert risk.human(2_000) == "2K"
    assert risk.human(980) == "980"


def test_author_reason():
    assert risk.author_reason(Author(id="a", followers=1_200_000, verified_type=3)) == (
        "1.2M followers, verified media"
    )
    assert risk.author_reason(Author(id="a", followers=50)) == "50 followers"
    assert risk.author_reason(Author(id="a", followers=5, verified_type=220)) == "5 followers, big V"


def test_engagement_reason():
    assert risk.engagement_reason(Engagement()) is None
    assert risk.engagement_reason(Engagement(reposts=1200, comments=356, likes=2100)) == (
        "1.2K reposts, 356 comments, 2.1K likes"
    )


def test_influence_orders_accounts():
    nobody = risk.influence(Author(id="a", followers=10), W)
    person = risk.influence(Author(id="a", followers=10_000), W)
    media = risk.influence(Author(id="a", followers=10_000, verified_type=3), W)
    company = risk.influence(Author(id="a", followers=10_000, verified_type=2), W)
    orange = risk.influence(Author(id="a", followers=10_000, verified_type=0), W)
    assert nobody == 0
    assert nobody < person < orange < company < media


def test_reach_is_log_scaled_and_bounded():
    assert risk.reach(None, W) == 0
    assert risk.reach(Engagement(), W) == 0
    small = risk.reach(Engagement(reposts=10), W)
    big = risk.reach(Engagement(reposts=10_000), W)
    assert 0 < small < big <= 1
    assert risk.reach(Engagement(reposts=10**9, comments=10**9, likes=10**9), W) == 1


def test_factors_bounds_and_monotonic():
    low = risk.factors(0.9, 0.0, None, None, 1.0, W)
    high = risk.factors(
        0.9, 0.9, Engagement(reposts=5000), Author(id="a", followers=10**6, verified_type=3), 1.0, W
    )
    assert 0 <= low.risk < high.risk <= 1
    assert risk.factors(0.0, 1.0, None, None, 1.0, W).risk == 0
    top = risk.factors(
        1.0, 1.0, Engagement(reposts=10**9), Author(id="a", followers=10**9, verified_type=3), 1.0, W
    )
    assert top.risk == pytest.approx(1.0)

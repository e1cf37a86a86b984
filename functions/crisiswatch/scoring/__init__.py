"""Sentiment and crisis-risk scoring of Chinese social-media posts.

    from crisiswatch.scoring import Scorer
    scorer = Scorer(brand_terms=["鲜味坊"])
    score = scorer.score(post)          # crisiswatch.vocabulary.Score
    scorer.score_text("文本")            # without author or engagement

See docs/scoring.md for how it works and how it was measured.
"""

from crisiswatch.scoring.scorer import Analysis, Scorer

__all__ = ["Analysis", "Scorer"]

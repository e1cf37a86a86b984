"""snownlp's naive-Bayes classifier, without snownlp's 2.4 s package import.

``import snownlp`` (and so ``from snownlp.classification.bayes import Bayes``) first runs
``snownlp/__init__.py``, which loads its segmenter, tagger and pinyin models. The classifier needs
none of that: ``classification/bayes.py`` imports only ``utils/frequency.py`` and
``utils/good_turing.py``. We import those very files as a private package (``_snownlp_core``) whose
``__path__`` is snownlp's folder, so the package ``__init__`` never runs: about 6 ms. The code that
trains and saves the model is snownlp's own.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from functools import lru_cache
from typing import Any

_PRIVATE = "_snownlp_core"


@lru_cache(maxsize=1)
def bayes_class() -> Any:
    """``snownlp.classification.bayes.Bayes``."""
    if "snownlp.classification.bayes" in sys.modules:  # snownlp already imported: use it
        return sys.modules["snownlp.classification.bayes"].Bayes
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("snownlp is not installed")
    if _PRIVATE not in sys.modules:
        package = types.ModuleType(_PRIVATE, "snownlp's classifier, loaded without snownlp/__init__.py")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules[_PRIVATE] = package
    return importlib.import_module(f"{_PRIVATE}.classification.bayes").Bayes


def add_one_prob_class() -> Any:
    """``snownlp.utils.frequency.AddOneProb`` (the per-class word counts inside ``Bayes``)."""
    bayes_class()
    name = "snownlp" if "snownlp.classification.bayes" in sys.modules else _PRIVATE
    return importlib.import_module(f"{name}.utils.frequency").AddOneProb

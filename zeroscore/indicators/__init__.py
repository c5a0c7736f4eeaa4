"""All indicators. Every public module in this package defines one registered indicator class; importing the
package imports (and so registers) them all. Private modules (``_*.py``) hold family bases and shared helpers."""

import importlib
import pkgutil

from zeroscore.errors import IndicatorNotApplicable, MissingInputError, UnknownIndicatorError  # noqa: F401
from zeroscore.indicators.base import (  # noqa: F401
    Indicator,
    get_indicator,
    indicator_class,
    list_indicators,
    register,
    unregister,
)

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in ("base",) and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

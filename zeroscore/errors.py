"""Every public exception of zeroscore, in one place at the bottom of the package (it imports nothing of ours).

All of them derive from :class:`ZeroscoreError` *and* from the built-in exception a caller would expect
(``KeyError`` for an unknown name, ``ValueError`` for a malformed value, ``FileNotFoundError`` for missing data),
so ``except ValueError`` keeps working while the command line can tell a user's mistake (one line, exit 2) from a
bug (a traceback).
"""

from __future__ import annotations

__all__ = [
    "ZeroscoreError",
    "UnknownNameError",
    "UnknownIndicatorError",
    "UnknownSpaceError",
    "UnknownDatasetError",
    "IndicatorNotApplicable",
    "MissingInputError",
    "InvalidInputError",
    "InvalidArchError",
    "DataNotFoundError",
    "DamagedFileError",
    "NoGroundTruthError",
    "StoreError",
    "MissingExtraError",
    "UsageError",
    "InvalidParameterError",
    "OutputExistsError",
    "NotSupportedError",
]


class ZeroscoreError(Exception):
    """Base of the errors zeroscore raises on purpose; the message says what is wrong and how to fix it."""

    def __str__(self) -> str:  # KeyError would repr() the message; every subclass prints it plainly
        return str(self.args[0]) if self.args else ""


class UnknownNameError(ZeroscoreError, KeyError, ValueError):
    """A name (indicator, space, dataset) that is not known; the message lists the closest known names."""


class UnknownIndicatorError(UnknownNameError):
    """An indicator name that is not registered (``zeroscore list`` shows them all)."""


class UnknownSpaceError(UnknownNameError):
    """A search-space name that is not registered."""


class UnknownDatasetError(UnknownNameError):
    """A dataset name that zeroscore cannot load."""


class IndicatorNotApplicable(ZeroscoreError, RuntimeError):
    """The indicator cannot be computed on this model/input (e.g. it needs ReLUs and there are none)."""


class MissingInputError(ZeroscoreError, ValueError):
    """The caller did not give something an indicator needs (e.g. labels)."""


class InvalidInputError(ZeroscoreError, ValueError):
    """The model, the batch or the labels cannot be scored as given (NaN inputs, one-hot labels, a meta-device
    model, an ambiguous output, ...); the message names what is wrong."""


class InvalidArchError(ZeroscoreError, ValueError):
    """A malformed architecture; the message names the offending part (op, edge, vertex, channel, ...)."""


class DataNotFoundError(ZeroscoreError, FileNotFoundError):
    """A file the caller asked for is not in the data location; the message names the file, where it was
    expected, and how to obtain it."""


class DamagedFileError(ZeroscoreError, ValueError):
    """A file exists but cannot be read as what it should be (truncated, foreign, corrupt); the message names it."""


class NoGroundTruthError(ZeroscoreError, LookupError):
    """The search space has no benchmark table (e.g. DARTS), so there is no accuracy to compare with."""


class StoreError(ZeroscoreError, OSError):
    """A score store that cannot be opened, written or read (missing, unwritable, damaged)."""


class MissingExtraError(ZeroscoreError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install 'zeroscore[extra]'``."""


class UsageError(ZeroscoreError, ValueError):
    """An argument or option that cannot be used as given; the message names it and the fix."""


class InvalidParameterError(ZeroscoreError, TypeError):
    """A hyper-parameter an indicator does not have (the message lists the ones it has)."""


class OutputExistsError(ZeroscoreError, FileExistsError):
    """An output file exists and replacing it was not asked for (the message names the overwrite option)."""


class NotSupportedError(ZeroscoreError, NotImplementedError):
    """What was asked is not something this space (or object) can do, e.g. enumerate DARTS or build a thin
    network for NATS-Bench SSS; the message says which."""

"""Common interface of the benchmark search spaces.

A :class:`Space` turns a plain, hashable architecture value (``arch``) into a freshly initialised
``torch.nn.Module`` that is *exactly* the network the benchmark trained, and offers the usual search
helpers (sampling, mutation, neighbourhoods, official index order where the benchmark has one).

Conventions shared by every space:

* ``canonical(arch)`` validates and normalises an architecture. A malformed architecture raises
  :class:`~zeroscore.errors.InvalidArchError` (a ``ValueError``) whose message names the offending part (op,
  edge, vertex, channel, ...).
  Every other method accepts any form that ``canonical`` accepts and returns canonical archs.
* ``build(arch, num_classes=10, seed=None)`` returns a network whose ``forward(x)`` returns a plain
  logits tensor of shape ``(N, num_classes)`` and whose activations are ``nn.ReLU`` modules (so
  forward hooks see them). With ``seed`` the initialisation is deterministic and the caller's global
  torch RNG state is left untouched (the build runs inside ``torch.random.fork_rng``).
* ``count_params(arch, num_classes)`` counts trainable parameters (all ``nn.Parameter`` entries,
  BatchNorm affine weights included) without allocating or initialising weights.
"""

from __future__ import annotations

import abc
import contextlib
import random
from collections.abc import Hashable, Iterator
from typing import Any, Generic, TypeVar

import torch
import torch.nn as nn

from zeroscore.errors import NotSupportedError, UsageError

__all__ = ["Space", "seeded", "num_params"]

#: type of the canonical arch of a space (``str`` for NB201, ``Genotype`` for DARTS, ...)
ArchT = TypeVar("ArchT", bound=Hashable)


@contextlib.contextmanager
def seeded(seed: int | None):
    """Run the body with the CPU torch RNG seeded to ``seed``; restore the caller's RNG state afterwards.

    ``seed=None`` is a no-op (the body uses, and advances, the global RNG as plain PyTorch would).
    Only the CPU default generator is forked and seeded: networks are built on the CPU.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(int(seed))
        yield


def tag_network(net: nn.Module, arch: Hashable, space_name: str) -> nn.Module:
    """Record ``net.arch`` and ``net.space_name`` (plain attributes) and return ``net``."""
    # torch's stubs type Module.__setattr__ for tensors and sub-modules only; plain values are accepted at run time
    net.arch = arch  # type: ignore[assignment]
    net.space_name = space_name  # type: ignore[assignment]
    return net


def num_params(module: nn.Module) -> int:
    """Number of scalar entries in ``module.parameters()`` (works for meta tensors too)."""
    return int(sum(p.numel() for p in module.parameters()))


class Space(abc.ABC, Generic[ArchT]):
    """Base class of a benchmark search space. Subclasses implement the ``_``-prefixed hooks."""

    #: registry name of the space
    name: str = ""
    #: alternative names, for documentation: :func:`zeroscore.spaces.get` resolves names through the one alias
    #: table of :mod:`zeroscore.names` (a test checks that these are in it)
    aliases: tuple = ()

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def canonical(self, arch: Any) -> ArchT:
        """Validate and normalise ``arch``; raise :class:`InvalidArchError` naming the bad part if malformed."""

    @abc.abstractmethod
    def _build(self, arch: ArchT, num_classes: int) -> nn.Module:
        """Build the network of a *canonical* arch (called under the RNG context of :meth:`build`)."""

    @abc.abstractmethod
    def _random_arch(self, rng: random.Random) -> ArchT:
        """One uniformly drawn canonical arch."""

    @abc.abstractmethod
    def neighbors(self, arch: Any) -> list[ArchT]:
        """All canonical archs at edit distance one (one op / edge / channel changed)."""

    # ------------------------------------------------------------------ generic API
    def build(self, arch: Any, num_classes: int = 10, seed: int | None = None) -> nn.Module:
        """Freshly initialised benchmark network of ``arch`` returning ``(N, num_classes)`` logits."""
        a = self.canonical(arch)
        num_classes = self._check_num_classes(num_classes)
        with seeded(seed):
            net = self._build(a, num_classes)
        return tag_network(net, a, self.name)

    def build_thin(self, arch: Any, num_classes: int = 10, seed: int | None = None) -> nn.Module:
        """TE-NAS's tiny network for the linear-region count (only where :meth:`has_thin`)."""
        raise NotSupportedError(f"space {self.name!r} has no thin (linear-region) network")

    def has_thin(self) -> bool:
        """Whether :meth:`build_thin` builds TE-NAS's thin network here (a space overrides ``build_thin`` to say
        so); callers test this rather than ``hasattr(space, "build_thin")``, which every space passes."""
        return type(self).build_thin is not Space.build_thin

    def count_params(self, arch: Any, num_classes: int = 10) -> int:
        """Trainable parameter count of ``build(arch, num_classes)``.

        The default builds the network on the ``meta`` device (shapes only: no memory, no
        initialisation, no RNG use). Spaces with a closed form override this.
        """
        a = self.canonical(arch)
        num_classes = self._check_num_classes(num_classes)
        with torch.device("meta"):
            net = self._build(a, num_classes)
        return num_params(net)

    def is_valid(self, arch: Any) -> bool:
        try:
            self.canonical(arch)
        except (ValueError, TypeError):
            return False
        return True

    def key(self, arch: Any) -> Hashable:
        """Identity used to decide whether two archs are "the same" (default: the canonical arch)."""
        return self.canonical(arch)

    def sample(self, n: int, seed: int | None = 0) -> list[ArchT]:
        """``n`` distinct canonical archs drawn uniformly at random; deterministic for a given seed."""
        n = int(n)
        if n < 0:
            raise UsageError(f"n must be >= 0, got {n}")
        size = self.size
        if size is not None and n > size:
            raise UsageError(f"cannot sample {n} distinct archs from space {self.name!r} of size {size}")
        rng = random.Random(seed)
        if size is not None and self._has_index():
            return [self.arch(i) for i in rng.sample(range(size), n)]
        out: list[ArchT] = []
        seen: set[Hashable] = set()
        tries = 0
        while len(out) < n:
            a = self._random_arch(rng)
            k = self.key(a)
            tries += 1
            if k in seen:
                if tries > 1000 * (n + 10):
                    raise RuntimeError(f"could not draw {n} distinct archs from {self.name!r}")
                continue
            seen.add(k)
            out.append(a)
        return out

    def mutate(self, arch: Any, rng: random.Random | None = None) -> ArchT:
        """A different valid arch at edit distance one, drawn with ``rng`` (a ``random.Random``)."""
        rng = rng if rng is not None else random.Random()
        nbrs = self.neighbors(arch)
        if not nbrs:
            raise UsageError(f"arch {arch!r} has no neighbours in space {self.name!r}")
        return rng.choice(nbrs)

    def all(self) -> Iterator[ArchT]:
        """Iterate over every arch (official index order where there is one)."""
        raise NotSupportedError(f"space {self.name!r} is not enumerable: sample from it instead (--sample N)")

    def index(self, arch: Any) -> int:
        """Official benchmark index of ``arch``."""
        raise NotSupportedError(f"space {self.name!r} has no official index order")

    def arch(self, index: int) -> ArchT:
        """Arch with official benchmark index ``index``."""
        raise NotSupportedError(f"space {self.name!r} has no official index order")

    @property
    def size(self) -> int | None:
        """Number of archs, or ``None`` when not known/enumerable."""
        return None

    # ------------------------------------------------------------------ helpers
    def _has_index(self) -> bool:
        return type(self).arch is not Space.arch

    @staticmethod
    def _check_num_classes(num_classes: int) -> int:
        if isinstance(num_classes, bool) or int(num_classes) != num_classes or int(num_classes) < 1:
            raise UsageError(f"num_classes must be a positive integer, got {num_classes!r}")
        return int(num_classes)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


"""AZ-NAS complexity."""

from __future__ import annotations

from zeroscore.indicators._flops import FlopCount
from zeroscore.indicators.base import register


@register
class AZComplexity(FlopCount):
    """FLOPs of the network, the complexity component of AZ-NAS (``s^C``).

    AZ-NAS (Lee & Ham, CVPR 2024) ranks networks by their FLOPs (``model.get_FLOPs(resolution)`` in
    ``compute_az_nas_score.py``; larger is ranked better, the paper's observation that, within a budget, bigger
    networks tend to be more accurate). Here: the multiply-accumulates of one forward pass of one input, shared
    with ``flops`` (same ``convention`` options). One of the four AZ-NAS components. Higher is better.
    """

    name = "az_complexity"
    paper = "AZ-NAS (Lee & Ham, CVPR 2024)"

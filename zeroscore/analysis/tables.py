"""Paper-style tables of a :func:`zeroscore.analysis.correlate` result: :func:`table` pivots it, :func:`to_markdown`,
:func:`to_latex` and :func:`to_csv` write it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from zeroscore.errors import UnknownNameError, UsageError

__all__ = ["table", "to_markdown", "to_latex", "to_csv"]

#: columns where the smallest value is the best (bold) one
_LOWER_IS_BETTER_METRICS = ("best_rank", "n_failed", "n_inf")


def table(corr: pd.DataFrame, metric: str | Sequence[str] = ("spearman", "kendall"), rows: str = "indicator",
          columns: str = "target") -> pd.DataFrame:
    """Pivot a :func:`zeroscore.analysis.correlate` result into a paper-style table.

    ``rows``/``columns`` name columns of ``corr`` (``"indicator"``, ``"target"``, ``"dataset"``, ``"space"``...).
    One metric gives plain columns; several give a column MultiIndex ``(column value, metric)``.
    Row order follows first appearance in ``corr``.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    for c in [rows, columns, *metrics]:
        if c not in corr.columns:
            raise UnknownNameError(f"{c!r} is not a column of the correlation frame ({list(corr.columns)})")
    row_order = list(dict.fromkeys(corr[rows]))
    col_order = list(dict.fromkeys(corr[columns]))
    dup = corr.duplicated([rows, columns])
    if dup.any():
        raise UsageError(f"several rows per ({rows}, {columns}); filter the frame first (e.g. by target or dataset)")
    wide = corr.pivot(index=rows, columns=columns, values=metrics)
    wide = wide.reindex(index=row_order)
    if len(metrics) == 1:
        wide = wide[metrics[0]].reindex(columns=col_order)
        wide.columns.name = columns
    else:
        wide = wide.swaplevel(0, 1, axis=1)
        wide = wide.reindex(columns=pd.MultiIndex.from_product([col_order, metrics], names=[columns, "metric"]))
    wide.index.name = rows
    return wide


def _best_mask(tab: pd.DataFrame) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=tab.index, columns=tab.columns)
    for c in tab.columns:
        metric = c[-1] if isinstance(c, tuple) else (tab.columns.name or "")
        col = pd.to_numeric(tab[c], errors="coerce")
        if col.notna().sum() == 0:
            continue
        lower = any(str(metric).startswith(m) for m in _LOWER_IS_BETTER_METRICS) or any(
            str(c if not isinstance(c, tuple) else c[-1]).startswith(m) for m in _LOWER_IS_BETTER_METRICS)
        best = col.min() if lower else col.max()
        mask[c] = np.isclose(col, best, rtol=0, atol=1e-12) & col.notna()
    return mask


def _fmt(v, digits: int) -> str:
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "–"
        if float(v).is_integer() and abs(v) >= 10:
            return f"{int(v)}"
        return f"{v:.{digits}f}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _header_lines(tab: pd.DataFrame) -> list[list[str]]:
    if isinstance(tab.columns, pd.MultiIndex):
        return [[str(x) for x in level] for level in zip(*tab.columns)]
    return [[str(c) for c in tab.columns]]


def to_markdown(tab: pd.DataFrame, bold_best: bool = True, digits: int = 3, index: bool = True) -> str:
    """A GitHub-flavoured markdown table; the best value of each numeric column in bold (``**x**``).

    "Best" is the maximum, except for ``best_rank*``/``n_failed``/``n_inf`` columns (minimum). NaN prints as
    an en dash. A column MultiIndex is flattened to ``"a / b"`` headers.
    """
    mask = _best_mask(tab) if bold_best else None
    heads = [" / ".join(h) for h in zip(*_header_lines(tab))]
    idx_name = " / ".join(str(n) for n in tab.index.names if n is not None) or ""
    header = ([idx_name] if index else []) + heads
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join([":--"] * (1 if index else 0) + ["--:"] * len(heads)) + " |"]
    for i, (ix, row) in enumerate(tab.iterrows()):
        cells = [str(ix) if not isinstance(ix, tuple) else " / ".join(map(str, ix))] if index else []
        for j, c in enumerate(tab.columns):
            s = _fmt(row[c], digits)
            if mask is not None and bool(mask.iloc[i, j]):
                s = f"**{s}**"
            cells.append(s)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(s: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(s))


def to_latex(tab: pd.DataFrame, bold_best: bool = True, digits: int = 3, caption: str | None = None,
             label: str | None = None, booktabs: bool = True) -> str:
    """A LaTeX ``tabular`` (in a ``table`` environment when ``caption``/``label`` is given); best per column in
    ``\\textbf``. A column MultiIndex becomes a two-row header with ``\\multicolumn`` groups. Uses ``booktabs``
    rules (``\\toprule``...) unless ``booktabs=False`` (then ``\\hline``)."""
    mask = _best_mask(tab) if bold_best else None
    top, mid, bot = (r"\toprule", r"\midrule", r"\bottomrule") if booktabs else (r"\hline", r"\hline", r"\hline")
    ncol = len(tab.columns)
    out = []
    if caption or label:
        out += [r"\begin{table}[t]", r"\centering"]
        if caption:
            out.append(rf"\caption{{{_tex(caption)}}}")
        if label:
            out.append(rf"\label{{{label}}}")
    out.append(r"\begin{tabular}{l" + "r" * ncol + "}")
    out.append(top)
    idx_name = _tex(" / ".join(str(n) for n in tab.index.names if n is not None))
    if isinstance(tab.columns, pd.MultiIndex):
        groups: list[tuple[str, int]] = []
        for c in tab.columns:
            if groups and groups[-1][0] == c[0]:
                groups[-1] = (c[0], groups[-1][1] + 1)
            else:
                groups.append((c[0], 1))
        cells = [""] + [rf"\multicolumn{{{n}}}{{c}}{{{_tex(g)}}}" for g, n in groups]
        out.append(" & ".join(cells) + r" \\")
        if booktabs:
            pos, rules = 2, []
            for _g, n in groups:
                rules.append(rf"\cmidrule(lr){{{pos}-{pos + n - 1}}}")
                pos += n
            out.append(" ".join(rules))
        out.append(" & ".join([idx_name] + [_tex(c[-1]) for c in tab.columns]) + r" \\")
    else:
        out.append(" & ".join([idx_name] + [_tex(c) for c in tab.columns]) + r" \\")
    out.append(mid)
    for i, (ix, row) in enumerate(tab.iterrows()):
        cells = [_tex(ix if not isinstance(ix, tuple) else " / ".join(map(str, ix)))]
        for j, c in enumerate(tab.columns):
            s = _fmt(row[c], digits).replace("–", "--")
            s = _tex(s) if not s.replace(".", "").replace("-", "").isdigit() else s
            if mask is not None and bool(mask.iloc[i, j]):
                s = rf"\textbf{{{s}}}"
            cells.append(s)
        out.append(" & ".join(cells) + r" \\")
    out.append(bot)
    out.append(r"\end{tabular}")
    if caption or label:
        out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def to_csv(tab: pd.DataFrame, path=None, digits: int | None = None) -> str:
    """CSV text of a table (MultiIndex columns flattened to ``a/b``); also written to ``path`` if given."""
    flat = tab.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = ["/".join(map(str, c)) for c in flat.columns]
    if digits is not None:
        flat = flat.round(digits)
    text = flat.to_csv()
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text

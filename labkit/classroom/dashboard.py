"""Notebook 09's bqplot dashboards: a class's runs side by side, filtered by board, pace, team and size.

Built once, then updated inside ``hold_sync`` when a filter changes (one message per figure).
Reads a records table (:func:`labkit.classroom.report.frame`), never the engines.

* **methods** -- per transfer method, the distribution of the measured times across students
  (a box of the quantiles, one dot per run, coloured by board kind), log scale;
* **calibration** -- the simulated board's estimate (x) against real boards' measurements (y)
  per method, size and profile; the diagonal is "the estimate is right";
* **completion** -- students x exercise checks: not tried, tried, passed;
* **outliers** -- the flagged runs and their likely cause.

A synthetic class says so in every title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from . import report

__all__ = ["ClassDashboard", "size_label", "team_of", "ALL"]

ALL = "all"
KIND_COLORS = {"real": "#d62728", "simulated (board pace)": "#1f77b4", "simulated (host pace)": "#ff7f0e"}
QUANTILES = np.linspace(0.0, 1.0, 41)  #: what a box is drawn from (see _box_rows)


def size_label(size: Any) -> str:
    """Sizes that differ by a few bytes between methods (rows rounded to whole images) share a label."""
    if size is None or pd.isna(size):
        return "-"
    return f"{float(size) / 1024:.3g} KiB"


def team_of(student: str) -> str:
    """``"team-3/ada"`` -> ``"team-3"``; a label without ``/`` is its own team."""
    return student.split("/", 1)[0]


def _box_rows(groups: list[np.ndarray]) -> np.ndarray:
    """One equal-length row per box: bqplot's Boxplot needs a 2-D array, the groups have different sizes.

    Each row is its group's quantiles at :data:`QUANTILES`, so the box's quartiles, median and
    whiskers are the group's own (to the resolution of 41 quantiles).
    """
    return np.array([np.quantile(g, QUANTILES) if len(g) else np.full(len(QUANTILES), np.nan) for g in groups])


class ClassDashboard:
    """``ClassDashboard(df)`` then display ``.widget``; ``.export_csv(path)``, ``.export_html(path)``."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df.copy()
        self.df["size_label"] = [size_label(s) for s in self.df["size"]]
        self.df["team"] = [team_of(s) for s in self.df["student"]]
        self.synthetic = bool(self.df["synthetic"].any()) if not self.df.empty else False
        self.tag = " -- SYNTHETIC CLASS" if self.synthetic else ""
        timed = self.df[self.df["kind"].isin(["transfer", "sweep"])]
        sizes = sorted(timed["size_label"].unique(), key=lambda s: float(s.split()[0]) if s != "-" else 0)

        def dropdown(label: str, options: list[str], value: str = ALL) -> w.Dropdown:
            return w.Dropdown(options=[ALL] + options, value=value, description=label,
                              layout=w.Layout(width="260px"))

        self.kind = dropdown("Board", sorted(self.df["board_kind"].unique()))
        self.profile = dropdown("Profile", sorted(p for p in self.df["profile"].dropna().unique()))
        self.pace = dropdown("Pace", sorted(p for p in self.df["pace"].dropna().unique()))
        self.team = dropdown("Team", sorted(self.df["team"].unique()))
        self.size = w.Dropdown(options=sizes or ["-"], value=(sizes[0] if sizes else "-"), description="Size",
                               layout=w.Layout(width="260px"))
        self._build_methods()
        self._build_calibration()
        self._build_completion()
        self.outlier_table = w.HTML()
        self.banner = w.HTML(
            "<b style='background:#fde68a;padding:4px'>SYNTHETIC CLASS: generated from the lab's own runs with a "
            "documented spread (tools/make_synthetic_class.py); not real students.</b>" if self.synthetic else "")
        self.status = w.HTML()
        for control in (self.kind, self.profile, self.pace, self.team, self.size):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox([
            self.banner,
            w.HBox([self.kind, self.profile, self.pace]), w.HBox([self.team, self.size]), self.status,
            self.methods_fig, self.calibration_fig, self.completion_fig,
            w.HTML("<h4>Outliers and their likely cause</h4>"), self.outlier_table])
        self.update()

    # -- figures (built once) -----------------------------------------------------------------------------
    def _build_methods(self) -> None:
        self.m_x = bq.OrdinalScale()
        self.m_y = bq.LogScale()
        self.box = bq.Boxplot(x=[], y=np.zeros((0, len(QUANTILES))), scales={"x": self.m_x, "y": self.m_y},
                              box_fill_color="#dddddd", stroke="#555555", auto_detect_outliers=False,
                              opacities=[0.6])
        self.dots = {kind: bq.Scatter(x=[], y=[], scales={"x": self.m_x, "y": self.m_y}, colors=[color],
                                      default_size=18, default_opacities=[0.7], labels=[kind], display_legend=True)
                     for kind, color in KIND_COLORS.items()}
        axes = [bq.Axis(scale=self.m_x, label="transfer method"),
                bq.Axis(scale=self.m_y, orientation="vertical", label="measured time per run (s, log)",
                        tick_format=".0e")]
        self.methods_fig = bq.Figure(marks=[self.box, *self.dots.values()], axes=axes, legend_location="top-left",
                                     title="Measured time by method" + self.tag,
                                     layout=w.Layout(width="100%", height="380px"))

    def _build_calibration(self) -> None:
        x, y = bq.LogScale(), bq.LogScale()
        self.cal_points = bq.Scatter(x=[], y=[], scales={"x": x, "y": y}, colors=["#d62728"], default_size=30,
                                     display_names=False,  # 20+ labels overlap: the names are in the tooltip
                                     tooltip=bq.Tooltip(fields=["name"], labels=["method, size, profile"]))
        self.cal_line = bq.Lines(x=[1e-6, 10.0], y=[1e-6, 10.0], scales={"x": x, "y": y}, colors=["#888888"],
                                 line_style="dashed")
        self.calibration_fig = bq.Figure(
            marks=[self.cal_line, self.cal_points],
            axes=[bq.Axis(scale=x, label="estimated by the simulated board (s)", tick_format=".0e"),
                  bq.Axis(scale=y, orientation="vertical", label="measured on real boards (s)", tick_format=".0e")],
            title="Calibration: estimate vs real board" + self.tag, layout=w.Layout(width="60%", height="420px"))

    def _build_completion(self) -> None:
        self.grid = bq.GridHeatMap(color=np.zeros((2, 2)), row=["-", " "], column=["-", " "],  # bqplot squeezes 1x1
                                   scales={"row": bq.OrdinalScale(), "column": bq.OrdinalScale(),
                                           "color": bq.ColorScale(min=0, max=2,
                                                                  colors=["#eeeeee", "#fdae61", "#1a9641"])})
        self.completion_fig = bq.Figure(
            marks=[self.grid], axes=[bq.Axis(scale=self.grid.scales["column"], label="check", tick_rotate=-45),
                                     bq.Axis(scale=self.grid.scales["row"], orientation="vertical")],
            title="Exercises: grey not tried, orange tried, green passed" + self.tag,
            layout=w.Layout(width="100%", height="760px"), fig_margin={"top": 60, "bottom": 120, "left": 150,
                                                                        "right": 10})

    # -- data ---------------------------------------------------------------------------------------------------
    def selected(self) -> pd.DataFrame:
        """The records the filters let through (every kind)."""
        df = self.df
        for control, column in ((self.kind, "board_kind"), (self.profile, "profile"), (self.pace, "pace"),
                                (self.team, "team")):
            if control.value != ALL:
                df = df[df[column] == control.value]
        return df

    def update(self) -> None:
        df = self.selected()
        timed = df[df["kind"].isin(["transfer", "sweep"]) & df["measured_s"].notna()
                   & (df["size_label"] == self.size.value)]
        methods = sorted(timed["subject"].unique())
        groups = [timed.loc[timed["subject"] == m, "measured_s"].to_numpy(float) for m in methods]
        with self.methods_fig.hold_sync():
            self.m_x.domain = methods
            self.box.x, self.box.y = (methods, _box_rows(groups)) if methods else ([], np.zeros((0, len(QUANTILES))))
            for kind, mark in self.dots.items():
                part = timed[timed["board_kind"] == kind]
                with mark.hold_sync():
                    mark.x, mark.y = part["subject"].to_numpy(str), part["measured_s"].to_numpy(float)
        cal = report.calibration(df)
        with self.cal_points.hold_sync():
            self.cal_points.x = cal["estimated_s"].to_numpy(float)
            self.cal_points.y = cal["measured_real_s"].to_numpy(float)
            self.cal_points.names = [f"{s} {size_label(z)} {p}" for s, z, p in
                                     zip(cal["subject"], cal["size"], cal["profile"])]
        if not cal.empty:  # the diagonal over the points' range: "the estimate is right"
            ends = [float(np.nanmin(cal[["estimated_s", "measured_real_s"]].to_numpy())) / 2,
                    float(np.nanmax(cal[["estimated_s", "measured_real_s"]].to_numpy())) * 2]
            self.cal_line.x, self.cal_line.y = ends, ends
        done = report.completion(df)
        if done.empty:
            done = pd.DataFrame({"(no checks)": ["", ""]}, index=["(no students)", " "])
        if not done.empty:
            # bqplot squeezes a 1-row or 1-column grid to fewer dimensions: pad it with a blank row/column
            while done.shape[0] < 2:
                done.loc[" " * (done.shape[0] + 1)] = ""
            while done.shape[1] < 2:
                done[" " * done.shape[1]] = ""
            codes = np.where(done.apply(lambda c: c.str.startswith("passed")).to_numpy(), 2,
                             np.where(done.to_numpy() != "", 1, 0)).astype(float)
            # hold_trait_notifications: row, column and color are checked against each other once, at the end
            with self.grid.hold_sync(), self.grid.hold_trait_notifications():
                self.grid.row, self.grid.column = list(done.index), list(done.columns)
                self.grid.color = codes
        flagged = report.outliers(df)
        shown = flagged.drop(columns=["id", "time"], errors="ignore").head(40)
        self.outlier_table.value = (f"<p>{len(flagged)} flagged run(s){self.tag}</p>" +
                                    report._table(shown, ["measured_s", "estimated_s", "class_median_s"]))
        self.status.value = (f"{len(df)} records, {df['student'].nunique()} students; {len(timed)} runs at "
                             f"{self.size.value}. Measured = wall clock on the machine that ran it; estimated = "
                             f"simulated board's estimate for its profile.")

    # -- export ------------------------------------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> Path:
        """The filtered records as CSV (one row each; times labelled by kind in the column names)."""
        return report.to_csv(self.selected().drop(columns=["size_label", "team"]), path)

    def export_html(self, path: str | Path) -> Path:
        """The filtered records as a static HTML report."""
        return report.html_report(self.selected().drop(columns=["size_label", "team"]), path)

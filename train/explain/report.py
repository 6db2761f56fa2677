"""Explain parts into a folder: one picture per part and an ``index.html`` linking them.

:func:`explain_files` predicts the parts (or takes the predictions ``metaview predict``
made), analyses each mesh face by face and draws its five direction views in the render
worker (:meth:`render.worker.MeshRenderer.reach_views`: GL never shares a process with
TensorFlow), computes what the model looked at (:mod:`train.explain.evidence`) and writes
``DIR/<part>.png`` (:mod:`train.explain.figure`), then ``DIR/index.html`` and
``DIR/explain.json``. Parts go one at a time, so memory is bounded by one part's pictures
and one meta-image, whatever the number of inputs. Every file is written atomically; a part
that fails gets its error in the index and the others go on.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import train.explain.colours as C
from base.errors import MetaviewError
from base.files import atomic_write_text
from base.progress import progress as progress_bar
from geometry.directions import AXIS_NAMES, DIRECTIONS
from render.worker import MeshRenderer
from train.explain.figure import Panel, draw
from train.inference.inputs import is_image, load_png
from train.inference.loaded import LoadedModel
from train.inference.predict import COMBINED, VIEW_FAMILIES
from train.inference.prediction import Prediction

log = logging.getLogger(__name__)

#: Pixels on a side of each direction view.
VIEW_PX = 320
INDEX = "index.html"
SUMMARY = "explain.json"


@dataclass
class Explained:
    """One input's outcome: its prediction, and its picture or why there is none."""

    prediction: Prediction
    name: str
    picture: str | None = None  # file name in the output folder
    error: str | None = None
    disagrees: bool = False
    evidence: str = "none"
    note: str = ""  # what the evidence is, or why there is none (the line under it)
    seconds: float = 0.0


def picture_names(paths: Sequence[str | os.PathLike]) -> list[str]:
    """A file-system-safe, unique picture name per input: its stem, with the parent folder
    (then a number) added where two inputs share one."""

    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("._") or "part"

    stems = [safe(Path(p).stem) for p in paths]
    names = [
        safe(f"{Path(p).parent.name}_{Path(p).stem}") if stems.count(s) > 1 else s
        for p, s in zip(paths, stems, strict=True)
    ]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def explain_files(
    paths: Sequence[str | os.PathLike],
    loaded: LoadedModel,
    out_dir: str | os.PathLike,
    *,
    predictions: Sequence[Prediction] | None = None,
    renderer: MeshRenderer | None = None,
    progress: bool | None = False,
    view_px: int = VIEW_PX,
) -> list[Explained]:
    """Explain each input: ``out_dir/<part>.png``, ``index.html`` and ``explain.json``.

    Parameters
    ----------
    paths : sequence of path-like
        Mesh files and/or meta-image PNGs (a PNG has no geometry: its picture shows the
        model's evidence only).
    loaded : LoadedModel
        The model. Grad-CAM needs its Keras form (``load_model(..., need_keras=True)``);
        a compact or TFLite model gets its prediction and geometry explained, and a line
        saying why its evidence is not shown.
    out_dir : path-like
        Created if missing; pictures of the same names are replaced.
    predictions : sequence of Prediction, optional
        What :func:`train.inference.predict_files` returned for ``paths`` (with the
        reachable sets); predicted here when omitted.
    renderer : MeshRenderer, optional
        Kept open by the caller; one for this call when omitted.
    progress : bool or None
        A progress bar on stderr (None: as the logging level).
    view_px : int
        Pixels on a side of each direction view.

    Returns
    -------
    list of Explained
        One per input, in input order.
    """
    from train.inference import predict_files
    from train.inference.predict import mesh_renderer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    own = renderer is None
    if own:
        renderer = mesh_renderer(loaded)
    try:
        if predictions is None:
            predictions = predict_files(paths, loaded, reach=True, renderer=renderer)
        names = picture_names([p.file for p in predictions])
        done: list[Explained] = []
        with progress_bar(len(predictions), "explain", "part", enabled=progress) as bar:
            for pred, name in zip(predictions, names, strict=True):
                done.append(_explain_one(pred, name, loaded, renderer, out, view_px))
                bar.update(1)
    finally:
        if own:
            renderer.close()
    write_index(out, done, loaded.source)
    return done


def _explain_one(
    pred: Prediction, name: str, loaded: LoadedModel, renderer: MeshRenderer, out: Path, px: int
) -> Explained:
    start = time.perf_counter()
    item = Explained(prediction=pred, name=name)
    if not pred.ok:
        item.error = pred.error
        return item
    panel = Panel(
        name=Path(pred.file).name,
        label=pred.label,
        probabilities=dict(pred.probabilities),
        reachable=pred.reachable,
        reasons=dict(pred.reach_reasons),
        predicted=tuple(pred.predicted_set),
    )
    views = None
    if not is_image(Path(pred.file)):
        views, error = renderer.reach_views([pred.file], px)[0]
        if views is None:
            panel.reachable = None
            panel.evidence_note = f"no geometry: {error}"
        else:
            panel.geometry = C.paint_reach(views, pred.label if panel.disagrees else None)
    try:
        _evidence(panel, pred, loaded, renderer, views)
    except MetaviewError as exc:
        panel.evidence_kind, panel.evidence_note = "none", f"no evidence: {exc}"
    try:
        draw(panel, out / f"{name}.png")
    except (OSError, ValueError) as exc:
        item.error = f"{pred.file}: could not write its picture: {exc}"
        return item
    item.picture = f"{name}.png"
    item.disagrees = panel.disagrees
    item.evidence = panel.evidence_kind
    item.note = panel.evidence_note
    item.seconds = time.perf_counter() - start
    return item


def _evidence(panel: Panel, pred: Prediction, loaded: LoadedModel, renderer, views) -> None:
    """Fill in what the model looked at, or say why there is nothing to show."""
    target = loaded.labels.index(pred.label)
    net = loaded.keras_model
    if loaded.features == "normals":
        if views is None:
            panel.evidence_note = "no face evidence without the part's geometry"
            return
        if net is None:
            panel.evidence_note = "no face evidence: the model was loaded without its head"
            return
        from train.explain.evidence import normals_evidence

        values, _ = normals_evidence(net, views.reach.vertices, views.reach.faces, target)
        panel.evidence_kind = "faces"
        panel.evidence = C.paint_values(views, values)
        order = np.argsort(-values)
        positive = values[values > 0].sum()
        top = values[order[: max(1, len(values) // 20)]].clip(0).sum()
        share = f"{100 * top / positive:.0f} %" if positive > 0 else "none"
        panel.evidence_note = (
            f"gradient x input of the face-normal features, shared out by face; the top 5 % of "
            f"faces carry {share} of the evidence for {pred.label}"
        )
        return
    if loaded.features in VIEW_FAMILIES:
        _views_evidence(panel, pred, loaded, renderer, target)
        return
    if loaded.features:
        panel.evidence_note = (
            f"a '{loaded.features}' model reads whole-image statistics: no region of the part "
            "is singled out, so there is no map to show"
        )
        return
    if net is None:
        panel.evidence_note = (
            f"no Grad-CAM: {loaded.source} has no Keras model here (a .tflite or compact model "
            "has no gradients); explain the run's model instead"
        )
        return
    from train.explain.evidence import image_evidence
    from train.pipeline import prepare_images

    if is_image(Path(pred.file)):
        image = load_png(pred.file, loaded)
    else:
        image, error = renderer.render([pred.file], 1)[0]
        if image is None:
            panel.evidence_note = f"no Grad-CAM: {error}"
            return
    x = np.asarray(prepare_images(image[None], loaded.image_size), np.float32)[0]
    cam, _ = image_evidence(net, x, target)
    panel.evidence_kind = "grad-cam"
    panel.evidence = image
    panel.heat = cam
    variants = int(loaded.metaimage.get("variants", 1) or 1)
    seen = (
        f"the canonical meta-image (1 of the {variants} averaged)"
        if variants > 1
        else ("the meta-image")
    )
    panel.evidence_note = (
        f"Grad-CAM on the backbone's last feature map ({cam.shape[0]} x {cam.shape[1]}), "
        f"{seen}; red: where the score of {pred.label} came from"
    )


def _views_evidence(panel: Panel, pred: Prediction, loaded: LoadedModel, renderer, target) -> None:
    """A view-pooled model: each tile's share of the class score, exactly (its head is
    linear up to the softmax), on the canonical meta-image."""
    if loaded.keras_model is None:
        panel.evidence_note = (
            f"no tile evidence: {loaded.source} has no Keras head here (a .tflite model); "
            "explain the run's model instead"
        )
        return
    from train.explain.evidence import views_evidence
    from train.features import views as V
    from train.inference.predict import png_view, tile_features, view_weights_of

    if is_image(Path(pred.file)):
        image, view = load_png(pred.file, loaded), png_view(Path(pred.file))
        if view is None:
            panel.evidence_note = "no tile evidence: the meta-image's views are unknown"
            return
    else:
        image, error = renderer.render([pred.file], 1)[0]
        if image is None:
            panel.evidence_note = f"no tile evidence: {error}"
            return
        view = (Path(pred.file).stem, 0)
    tiles = tile_features(loaded, [image])[0]
    share = views_evidence(loaded.keras_model, tiles, view_weights_of(loaded, [view])[0], target)
    (rows, cols), _ = V.grid_and_seed(loaded.metaimage)
    top = np.clip(share, 0, None)
    panel.evidence_kind = "views"
    panel.evidence = image
    panel.heat = (top / top.max() if top.max() > 0 else top).reshape(rows, cols)
    best = int(np.argmax(share))
    variants = int(loaded.metaimage.get("variants", 1) or 1)
    seen = (
        f"the canonical meta-image (1 of the {variants} averaged)"
        if variants > 1
        else "the meta-image"
    )
    part = 100 * top[best] / max(top.sum(), 1e-12)
    panel.evidence_note = (
        f"each view's exact share of the score of {pred.label} (against the other classes), "
        f"{seen}; the views count for the directions they look at; the strongest is row "
        f"{best // cols + 1}, column {best % cols + 1}, with {part:.0f} % of the evidence for it"
    )
    if loaded.features == COMBINED:  # the mesh's face normals: the head's second block
        from train.explain.evidence import normals_block_share
        from train.features import mesh_features
        from train.inference.predict import png_mesh_normals

        path = Path(pred.file)
        x = png_mesh_normals(path) if is_image(path) else mesh_features(path)
        normal = normals_block_share(loaded.keras_model, x, target)
        panel.evidence_note += (
            f"; the face normals of the mesh add {normal:+.2f} to it, the views {share.sum():+.2f} "
            "(log-odds against the mean class)"
        )


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
td, th {
  border-bottom: 1px solid #ccc; padding: 0.4em 0.8em; vertical-align: top; text-align: left;
}
.bad { color: #d51414; font-weight: bold; }
.good { color: #006400; }
.sw {
  display: inline-block; width: 1.4em; height: 1em; margin-right: 0.5em;
  border: 1px solid #666; vertical-align: middle;
}
.dots { background: radial-gradient(black 30%, white 35%); background-size: 4px 4px; }
ul.legend { list-style: none; padding-left: 0; columns: 2; }
"""
# Marks on <body> how many pictures loaded ("data-images-loaded": "3/3"), for a reader, or a
# test in a headless browser, to check that no link is broken.
_LOADED = """
window.addEventListener("load", () => {
  const all = Array.from(document.images);
  const ok = all.filter((img) => img.complete && img.naturalWidth > 0).length;
  document.body.dataset.imagesLoaded = ok + "/" + all.length;
});
"""
_HEADER = (
    "<tr><th>part</th><th>prediction</th><th>reachable set</th>"
    "<th>against the geometry</th><th>picture</th></tr>"
)


def _probability(p: float | None) -> str:
    return "" if p is None else f"{p:.2f}"


def _cell(text: str) -> str:
    return html.escape(text, quote=True)


def write_index(out: Path, items: Sequence[Explained], model: str) -> Path:
    """Write ``index.html`` (pictures, answers and colours) and ``explain.json``."""
    rows = []
    summary = []
    for it in items:
        p = it.prediction
        probs = ", ".join(f"{k} {v:.2f}" for k, v in p.probabilities.items())
        reach = "unknown" if p.reachable is None else ", ".join(p.reachable) or "none (an undercut)"
        if it.error:
            verdict = f'<span class="bad">error: {_cell(it.error)}</span>'
        elif p.reachable is None:
            verdict = "no geometry to check"
        elif it.disagrees:
            why = p.reach_reasons.get(p.label or "", "")
            verdict = (
                f'<span class="bad">DISAGREES: {_cell(p.label or "")} '
                f"({_cell(AXIS_NAMES.get(p.label or '', ''))}) cannot reach every feature face"
                f"{': ' + _cell(why) if why else ''}</span>"
            )
        else:
            verdict = '<span class="good">agrees with the geometry</span>'
        picture = (
            f'<a href="{_cell(it.picture)}"><img src="{_cell(it.picture)}" '
            f'alt="{_cell(it.name)}" width="600"></a>'
            if it.picture
            else ""
        )
        rows.append(
            "<tr>"
            f'<td class="part">{_cell(Path(p.file).name)}</td>'
            f"<td><b>{_cell(p.label or '-')}</b> {_probability(p.probability)}"
            f"<br><small>{_cell(probs)}</small></td>"
            f"<td>{_cell(reach)}</td><td>{verdict}</td><td>{picture}</td></tr>"
        )
        summary.append(
            {
                **p.to_dict(),
                "picture": it.picture,
                "error": it.error or p.error,
                "disagrees": it.disagrees,
                "evidence": it.evidence,
                "note": it.note,
                "seconds": round(it.seconds, 3),
            }
        )
    legend = "".join(
        f'<li><span class="sw" style="background: rgb{colour}"></span>{_cell(text)}</li>'
        for text, colour in C.LEGEND
        if colour is not None
    )
    stripes = ", ".join(f"rgb{C.PALETTE[d]} 0 6px" for d in ("x_plus", "x_minus"))
    legend += (
        f'<li><span class="sw" style="background: repeating-linear-gradient(45deg, {stripes}, '
        f'rgb{C.PALETTE["x_minus"]} 6px 12px)"></span>stripes: reached from each of their '
        "colours</li>"
    )
    directions = ", ".join(f"{d} = {AXIS_NAMES[d]}" for d in DIRECTIONS)
    n_bad = sum(it.disagrees for it in items)
    n_err = sum(bool(it.error) for it in items)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>metaview explain: {len(items)} parts</title>
<style>{_STYLE}</style></head><body>
<h1>metaview explain</h1>
<p>Model: <code>{_cell(model)}</code>. {len(items)} parts; {n_bad} predictions outside their
reachable set; {n_err} failed. Directions: {_cell(directions)} (the part is clamped on -Z).</p>
<p>Top row of each picture: every face coloured by the directions that reach it (the same ray
casting as <code>metaview reach</code>). Middle row: what the model looked at. Bottom: the
probabilities, hatched where the direction cannot reach every feature face.</p>
<ul class="legend">{legend}
<li><span class="sw dots"></span>dotted black: faces the predicted direction cannot reach</li>
</ul>
<table>
{_HEADER}
{chr(10).join(rows)}
</table>
<script>{_LOADED}</script>
</body></html>
"""
    atomic_write_text(out / SUMMARY, json.dumps(summary, indent=2) + "\n")
    return atomic_write_text(out / INDEX, page)

"""The registry of public pretrained weights, tagged ``<model>.<origin>``, and ``pretrained=True``.

Each :class:`PretrainedEntry` records where the file lives (https mirrors tried in order), how
to check it (the full sha256 where a verifiable source gives one, else the hash prefix in the
file name), the layout to convert it from, the input it expects and what its authors report.
``PRETRAINED`` maps each model to its default entry (the one ``pretrained=True`` loads);
``TAGS`` holds every entry. Files are downloaded and verified by :mod:`senet.weights.hub`.

The facts below (URLs, file names, crop fraction, interpolation, input size, reported top-1)
were read from timm (github.com/huggingface/pytorch-image-models): ``timm/models/senet.py``
(``default_cfgs`` of the ``legacy_*`` models), ``timm/models/resnet.py`` (``default_cfgs`` of
``seresnet50``, ``seresnext50_32x4d``, ``seresnext101_32x4d``, ``senet154``; ``_cfg`` /
``_ttcfg`` / ``_rcfg`` / ``_gcfg`` for the defaults) and ``results/results-imagenet.csv`` (the
224 px rows), at commit aa4b5850; and from the Cadene port's reported figures
(shared/reference/layouts.md). No full sha256 was found for any of these files.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from senet.weights.convert import Converted, convert_file
from senet.weights.hub import PretrainedUnavailableError, cache_dir, fetch_file, hash_prefix, sha256_file
from senet.weights.preprocessing import Preprocessing

Layout = Literal["cadene", "timm", "senet"]

_LIP6 = "http://data.lip6.fr/cadene/pretrainedmodels/"  # the port's original host: plain http, tried last
_TIMM = "https://github.com/rwightman/pytorch-image-models/releases/download/"
_TIMM_HF = "https://github.com/huggingface/pytorch-image-models/releases/download/"
_GLUON = "https://github.com/rwightman/pytorch-pretrained-gluonresnet/releases/download/v0.1/"

_CADENE_SOURCE = "Cadene pretrainedmodels: PyTorch port of the official Caffe models (hujie-frank/SENet)"
_CADENE_TOP1 = "reported with the Cadene port (shared/reference/layouts.md)"
_TIMM_TOP1 = "timm results/results-imagenet.csv, 224 px row"

# timm's defaults: _cfg bilinear / crop 0.875; _ttcfg and _gcfg bicubic / 0.875; _rcfg bicubic / 0.95.
_BILINEAR = Preprocessing(interpolation="bilinear")
_BICUBIC = Preprocessing(interpolation="bicubic")
_RSB = Preprocessing(interpolation="bicubic", crop_fraction=0.95)


@dataclass(frozen=True)
class PretrainedEntry:
    """One downloadable checkpoint for a registered senet model."""

    model: str
    """The registered senet model the weights load into."""
    urls: tuple[str, ...] | str
    """Mirrors of one file, tried in order (a single URL is accepted and stored as a 1-tuple)."""
    layout: Layout
    """The key layout to convert from (senet/weights/cadene.py, timm.py, or senet's own)."""
    source: str
    """Who trained or ported the weights."""
    top1: float | None
    """ImageNet-1k validation top-1 (%) as reported by ``top1_source``; we have not measured it."""
    sha256: str | None = None
    """The file's full sha256 where a verifiable source gives it; None: only the file-name prefix."""
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    """How the weights expect their input (mean, std, input size, crop fraction, interpolation)."""
    origin: str = "custom"
    """The short source name after the model in the tag: ``se_resnet50.cadene``."""
    top1_source: str = ""
    """Where ``top1`` was reported."""
    license: str | None = None
    """The weights' license as their host states it; None: unknown."""

    def __post_init__(self) -> None:
        if isinstance(self.urls, str):
            object.__setattr__(self, "urls", (self.urls,))
        if not self.urls:
            raise ValueError(f"{self.model}: a pretrained entry needs at least one URL")
        names = {url.rsplit("/", 1)[-1] for url in self.urls}
        if len(names) != 1:
            raise ValueError(f"{self.model}: mirrors must serve one file name, got {sorted(names)}")
        if self.sha256 is None and self.hash_prefix is None:
            raise ValueError(f"{self.model}: {self.filename} has no sha256 and no hash prefix in its name")

    @property
    def tag(self) -> str:
        """``<model>.<origin>``, e.g. ``se_resnet50.timm_ra2``."""
        return f"{self.model}.{self.origin}"

    @property
    def url(self) -> str:
        """The first mirror."""
        return self.urls[0]

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str | None:
        """The hex digits after the last '-' of the file name (torch.hub's sha256 prefix)."""
        return hash_prefix(self.filename)

    @property
    def verification(self) -> str:
        """``"sha256"`` when the full hash is known, else ``"prefix only"``."""
        return "sha256" if self.sha256 else "prefix only"


def _entry(
    tag: str, urls: tuple[str, ...], layout: Layout, source: str, top1: float, top1_source: str,
    prep: Preprocessing, lic: str | None = "apache-2.0",
) -> PretrainedEntry:  # fmt: skip
    model, origin = tag.split(".", 1)
    return PretrainedEntry(model, urls, layout, source, top1, None, prep, origin, top1_source, lic)


def _cadene(model: str, file: str, top1: float, *, mirrored: bool) -> PretrainedEntry:
    # timm re-hosts se_resnet50/101/152 unchanged (same name and hash prefix) over https in its
    # v0.1-cadene release (timm/models/senet.py legacy_seresnet*); it marks them apache-2.0.
    urls = (_TIMM + "v0.1-cadene/" + file, _LIP6 + file) if mirrored else (_LIP6 + file,)
    lic = "apache-2.0" if mirrored else None
    return _entry(f"{model}.cadene", urls, "cadene", _CADENE_SOURCE, top1, _CADENE_TOP1, _BILINEAR, lic)


def _timm(
    tag: str, url: str, layout: Layout, source: str, top1: float, prep: Preprocessing
) -> PretrainedEntry:
    return _entry(tag, (url,), layout, source, top1, _TIMM_TOP1, prep)


_LEGACY = "timm legacy_* model (Cadene layout)"
_REHASH = "the Cadene port re-saved by timm (commit e11efa87: 'pickle scan / verify and re-hash'); " + _LEGACY

# The first entry of each model is its default (``pretrained=True``).
_ENTRIES = (
    # timm legacy_seresnet18/34.in1k: trained in timm, basic blocks with the ReLU before SE.
    _timm("se_resnet18.timm_legacy", _TIMM + "v0.1-weights/seresnet18-4bb0ce65.pth", "cadene",
          "timm legacy_seresnet18.in1k, trained in timm (Cadene layout)", 71.742, _BICUBIC),
    _timm("se_resnet34.timm_legacy", _TIMM + "v0.1-weights/seresnet34-a4004e63.pth", "cadene",
          "timm legacy_seresnet34.in1k, trained in timm (Cadene layout)", 74.788, _BILINEAR),
    _cadene("se_resnet50", "se_resnet50-ce0d4300.pth", 77.64, mirrored=True),
    # timm seresnet50.*_in1k: stride on the 3x3, loaded with stride_in_1x1=False (weights/timm.py).
    _timm("se_resnet50.timm_ra2", _TIMM + "v0.1-weights/seresnet50_ra_224-8efdb4bb.pth", "timm",
          "timm seresnet50.ra2_in1k", 80.260, _BICUBIC),
    _timm("se_resnet50.timm_a1", _TIMM_HF + "v0.1-rsb-weights/seresnet50_a1_0-ffa00869.pth", "timm",
          "timm seresnet50.a1_in1k (ResNet strikes back, arXiv:2110.00476)", 80.012, _RSB),
    _timm("se_resnet50.timm_a2", _TIMM_HF + "v0.1-rsb-weights/seresnet50_a2_0-850de0d9.pth", "timm",
          "timm seresnet50.a2_in1k (ResNet strikes back, arXiv:2110.00476)", 80.102, _RSB),
    # a3 is trained at 160 px (timm's input_size); the reported 77.036 is its 224 px / crop 0.95 row.
    _timm("se_resnet50.timm_a3", _TIMM_HF + "v0.1-rsb-weights/seresnet50_a3_0-317ecd56.pth", "timm",
          "timm seresnet50.a3_in1k (ResNet strikes back, arXiv:2110.00476)", 77.036, _RSB),
    _cadene("se_resnet101", "se_resnet101-7e38fcc6.pth", 78.40, mirrored=True),
    _cadene("se_resnet152", "se_resnet152-d17c99b7.pth", 78.66, mirrored=True),
    _timm("se_resnext50_32x4d.timm_legacy", _TIMM + "v0.1-weights/legacy_se_resnext50_32x4d-f3651bad.pth",
          "cadene", _REHASH, 79.080, _BILINEAR),
    _cadene("se_resnext50_32x4d", "se_resnext50_32x4d-a260b3a4.pth", 79.08, mirrored=False),
    _timm("se_resnext50_32x4d.timm_racm", _TIMM + "v0.1-weights/seresnext50_32x4d_racm-a304a460.pth", "timm",
          "timm seresnext50_32x4d.racm_in1k", 81.268, _BICUBIC),
    _timm("se_resnext50_32x4d.gluon", _GLUON + "gluon_seresnext50_32x4d-90cf2d6e.pth", "timm",
          "GluonCV weights ported by timm (seresnext50_32x4d.gluon_in1k)", 79.916, _BICUBIC),
    _timm("se_resnext101_32x4d.timm_legacy", _TIMM + "v0.1-weights/legacy_se_resnext101_32x4d-37725eac.pth",
          "cadene", _REHASH, 80.274, _BILINEAR),
    _cadene("se_resnext101_32x4d", "se_resnext101_32x4d-3b2fe3d8.pth", 80.24, mirrored=False),
    _timm("se_resnext101_32x4d.gluon", _GLUON + "gluon_seresnext101_32x4d-cf52900d.pth", "timm",
          "GluonCV weights ported by timm (seresnext101_32x4d.gluon_in1k)", 80.886, _BICUBIC),
    _timm("senet154.timm_legacy", _TIMM + "v0.1-weights/legacy_senet154-e9eb9fe6.pth", "cadene",
          _REHASH, 81.320, _BILINEAR),
    _cadene("senet154", "senet154-c7b49a05.pth", 81.30, mirrored=False),
    _timm("senet154.gluon", _GLUON + "gluon_senet154-70a1a3c0.pth", "timm",
          "GluonCV weights ported by timm (senet154.gluon_in1k)", 81.258, _BICUBIC),
)  # fmt: skip

TAGS: dict[str, PretrainedEntry] = {e.tag: e for e in _ENTRIES}
"""Every registered entry by tag."""
PRETRAINED: dict[str, PretrainedEntry] = {}
"""The default entry of each model (what ``create_model(name, pretrained=True)`` loads)."""
for _e in _ENTRIES:
    PRETRAINED.setdefault(_e.model, _e)


def split_tag(name: str) -> tuple[str, str | None]:
    """``"se_resnet50.timm_ra2"`` -> ``("se_resnet50", "timm_ra2")``; a bare model name -> ``(name, None)``."""
    model, _, origin = name.partition(".")
    return model, origin or None


def get_entry(name: str, pretrained: bool | str = True) -> PretrainedEntry:
    """The entry for a tag (``se_resnet50.timm_ra2``) or a model's default (``se_resnet50``).

    ``pretrained`` may name the origin (``"timm_ra2"``) or a full tag for the model ``name``, as
    in ``create_model("se_resnet50", pretrained="timm_ra2")``; an unknown one lists the choices.
    """
    model, origin = split_tag(name)
    if isinstance(pretrained, str) and pretrained:
        other_model, other_origin = split_tag(pretrained)
        if other_origin is None:
            other_model, other_origin = model, other_model
        if other_model != model or (origin is not None and origin != other_origin):
            raise ValueError(f"pretrained={pretrained!r} is for {other_model!r}, not {name!r}")
        origin = other_origin
    if origin is None:
        if model not in PRETRAINED:
            raise KeyError(
                f"no pretrained weights registered for {model!r}; models with weights: {sorted(PRETRAINED)}"
            )
        return PRETRAINED[model]
    tag = f"{model}.{origin}"
    if tag not in TAGS:
        choices = pretrained_tags(model) or sorted(TAGS)
        raise KeyError(f"no pretrained weights tagged {tag!r}; choose one of {choices}")
    return TAGS[tag]


def pretrained_tags(pattern: str = "*") -> list[str]:
    """Registered tags whose tag or model name matches the shell-style ``pattern``; each model's
    tags together, its default first, models sorted by name."""
    found = [
        e
        for e in TAGS.values()
        if fnmatch.fnmatchcase(e.tag, pattern) or fnmatch.fnmatchcase(e.model, pattern)
    ]
    default_first = sorted(found, key=lambda e: (e.model, PRETRAINED.get(e.model) is not e))
    return [e.tag for e in default_first]


def default_tag(model: str) -> str | None:
    """The tag ``pretrained=True`` loads for ``model``, or None when it has no weights."""
    entry = PRETRAINED.get(model)
    return entry.tag if entry is not None else None


def download(entry: PretrainedEntry, *, cache: str | Path | None = None, progress: bool = True) -> Path:
    """The verified local copy of ``entry``'s file (see :func:`senet.weights.hub.fetch_file`)."""
    return fetch_file(entry.urls, entry.filename, sha256=entry.sha256, cache=cache, progress=progress)


def fetch(name: str, *, cache: str | Path | None = None, progress: bool = True) -> Path:
    """The verified local file of a tag or of a model's default weights, downloaded when absent."""
    return download(get_entry(name), cache=cache, progress=progress)


def convert_pretrained(
    name: str, pretrained: bool | str = True, *, cache: str | Path | None = None, progress: bool = True
) -> Converted:
    """The weights of a tag / model (see :func:`get_entry`) in senet names with their network's
    configuration and the entry's preprocessing; the caller builds or adapts the model."""
    entry = get_entry(name, pretrained)
    converted = convert_file(download(entry, cache=cache, progress=progress), source=entry.layout)  # type: ignore[arg-type]
    if converted.model_name != entry.model:
        raise ValueError(f"{entry.url} holds a {converted.model_name!r} network, not {entry.model!r}")
    converted.preprocessing = entry.preprocessing
    converted.source = entry.tag
    return converted


__all__ = [
    "PRETRAINED",
    "TAGS",
    "PretrainedEntry",
    "PretrainedUnavailableError",
    "cache_dir",
    "convert_pretrained",
    "default_tag",
    "download",
    "fetch",
    "get_entry",
    "pretrained_tags",
    "sha256_file",
    "split_tag",
]

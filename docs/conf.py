"""Sphinx configuration: MyST Markdown, the spec rendered as-is, generated pages."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.dirname(HERE))

from ckpt_conformance._version import __version__  # noqa: E402
from ckpt_conformance.clauses import SPEC_VERSION  # noqa: E402

project = "ckpt-conformance"
author = "ckpt-conformance developers"
version = release = __version__
extensions = ["myst_parser", "ckpt_docs"]  # diagrams are inline SVG: no CDN, readable offline
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
html_theme = "alabaster"
html_title = f"ckpt-conformance {__version__} (spec {SPEC_VERSION})"
nitpicky = True
# The docs are built offline: only internal references are checked (-n -W does that);
# linkcheck then verifies the local files and anchors it is given, never the network.
linkcheck_ignore = [r"https?://.*"]

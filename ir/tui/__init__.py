"""The terminal app: a Textual front end over the workspace's services."""

from __future__ import annotations

from ir.tui.app import IrApp, make_app

__all__ = ["IrApp", "make_app"]

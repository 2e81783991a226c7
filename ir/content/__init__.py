"""Content files a practitioner edits: YAML parsing with positions, validation, search paths."""

from ir.content.paths import ContentPaths
from ir.content.validate import Strict, validate_document
from ir.content.yamlfile import Document, load_document, parse_document

__all__ = ["ContentPaths", "Document", "Strict", "load_document", "parse_document", "validate_document"]

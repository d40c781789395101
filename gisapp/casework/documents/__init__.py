"""The casework's documents (issue #20, docs/case_documents.md): notices and decisions as .docx,
rendered with docxtpl from templates a bureau can edit (gisapp/data/templates/casework, built
from ``source.yml`` by scripts/make_casework_templates.py), written as Chinese official
documents are (:mod:`.formats`), from the case's facts (:mod:`.context`), and kept with the
case (:mod:`.store`)."""

from gisapp.casework.documents.render import TemplateError, render, text_of
from gisapp.casework.documents.store import StoredFile, generate_documents, stored_file

__all__ = ["StoredFile", "TemplateError", "generate_documents", "render", "stored_file", "text_of"]

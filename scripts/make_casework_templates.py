"""Build the casework's .docx templates from gisapp/data/templates/casework/source.yml.

    .venv/bin/python scripts/make_casework_templates.py

Run it after editing the source; commit the source and the .docx files together
(tests/unit/test_case_documents.py checks that the templates hold what the source says).
"""

from gisapp.casework.documents.build import build_all

if __name__ == "__main__":
    for path in build_all():
        print(path)

"""The Dash web app. The only package that imports dash or flask."""

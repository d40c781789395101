"""Errors that carry a sentence a person can act on (the CLI prints them without a traceback)."""


class GisappError(Exception):
    """Base class: the message says what is wrong and what to do."""


class SetupError(GisappError):
    """The machine or the configuration is not ready (PostGIS missing, port in use, ...)."""


class MigrationError(GisappError):
    """A migration cannot be applied, or one already applied was changed."""


class NotFoundError(GisappError):
    """An unknown identifier (layer, zone, parcel)."""


class InputError(GisappError):
    """Bad input from a user or a file; the message names what and where."""


class Term(str):
    """A key of the vocabulary (gisapp.i18n) given as a value of a message: shown as its label in
    the reader's language. The layers below the web keep keys and values, never sentences."""

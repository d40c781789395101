"""Uploads that the server's temporary folder cannot hold get a sentence, not a dropped request.

A multipart form is parsed when a view first reads ``request.form`` (the form token is checked
before anything else), and the parser writes each uploaded file to the temporary folder. With that
folder full the parser raised ``OSError`` from the middle of Python's ``SpooledTemporaryFile``
rollover, whose half-written, already deleted file is referenced only by the traceback, so it
stayed open (and its disk space taken) until the garbage collector came by. Here every file the
parser writes to is made and remembered by the request itself and closed at once when parsing
fails, and the answer says in the user's language that the server is out of room (507); the
temporary path is logged for the operator, never shown.
"""

from __future__ import annotations

import errno
import io
import logging
import tempfile
import typing as t

from dash import Dash
from flask import Request, Response

logger = logging.getLogger("gisapp.web")

#: uploads up to this size stay in memory (werkzeug's own threshold)
IN_MEMORY_BYTES = 500 * 1024
#: the errors that mean "no room to write here", not a bug
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}

MESSAGES = {
    "zh": "服务器的临时文件夹已满或不可写，上传的文件无法保存，未导入任何内容。请联系管理员清理空间后重试。",
    "en": "The server's temporary folder is full or cannot be written, so the uploaded file could not "
          "be kept and nothing was imported. Ask the administrator to free space there, then try again.",
}


def no_room(exc: BaseException) -> bool:
    """True when ``exc`` is the file system refusing a write (full, quota, read-only)."""
    return isinstance(exc, OSError) and exc.errno in NO_ROOM


def upload_space_message(lang: str) -> str:
    """The sentence for an upload the temporary folder could not hold."""
    return MESSAGES.get(lang, MESSAGES["zh"])


class UploadSpaceError(Exception):
    """The temporary folder could not hold an upload."""


class UploadRequest(Request):
    """Flask's request, whose form parser writes files it can close when parsing fails."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> t.IO[bytes]:
        if total_content_length is not None and total_content_length <= IN_MEMORY_BYTES:
            return io.BytesIO()
        # a plain temporary file (deleted at once, open while the request lasts), never a spooled
        # one: its rollover could fail half-way with a file no one holds any more
        stream = tempfile.TemporaryFile("w+b")
        self.__dict__.setdefault("_gisapp_upload_files", []).append(stream)
        return stream

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except OSError as exc:
            if not no_room(exc):
                raise
            for stream in self.__dict__.pop("_gisapp_upload_files", []):
                stream.close()
            logger.warning("an upload to %s did not fit the temporary folder %s: %s",
                           self.path, tempfile.gettempdir(), exc.strerror)
            raise UploadSpaceError(exc.strerror) from None


def init_uploads(app: Dash) -> None:
    """``app``'s server parses forms with :class:`UploadRequest` and answers 507 with a sentence
    when an upload does not fit."""
    from gisapp.web.auth import request_lang
    from gisapp.web.errors import answer

    def _no_room(_exc: UploadSpaceError) -> Response:
        return answer(507, upload_space_message(request_lang()))

    app.server.request_class = UploadRequest
    app.server.register_error_handler(UploadSpaceError, _no_room)

"""Uploaded photos: bounded in bytes while read, then checked by ``load_image``."""

from __future__ import annotations

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from facegate.domain.errors import ImageTooLargeError, ValidationError
from facegate.domain.faces import UploadedPhoto
from facegate.http.errors import PayloadTooLargeError
from facegate.vision.images import ImageLimits, image_size, load_image

MAX_PHOTOS = 10
"""Most photos one enrollment request may carry."""
_CHUNK = 64 * 1024


async def read_bounded(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refused as soon as they pass ``max_bytes``.

    Raises:
        PayloadTooLargeError: over ``max_bytes`` (HTTP 413).
    """
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(
                f"{upload.filename or 'upload'}: over the limit of {max_bytes} bytes"
            )
        parts.append(chunk)
    return b"".join(parts)


async def read_photos(
    uploads: list[UploadFile], limits: ImageLimits, max_bytes: int
) -> list[UploadedPhoto]:
    """Read and check uploaded photos; none touches the disk.

    Each is bounded in bytes; the pixels their headers declare, summed, are bounded by
    ``limits.max_request_pixels``; then each is decoded once, shrunk to the size face
    work uses, off the event loop, so that a too large, truncated or exotic file is
    refused with its reason before any face work.

    Raises:
        ValidationError: no photo, or more than :data:`MAX_PHOTOS`.
        PayloadTooLargeError: a file over the byte limit.
        ImageTooLargeError: the photos declare more pixels together than a request may.
        InvalidImageError, ImageTooSmallError: from ``load_image``.
    """
    if not uploads or len(uploads) > MAX_PHOTOS:
        raise ValidationError(f"send between 1 and {MAX_PHOTOS} photos in the 'files' field")
    photos, pixels = [], 0
    for index, upload in enumerate(uploads):
        data = await read_bounded(upload, min(max_bytes, limits.max_image_bytes))
        width, height = image_size(data, limits)
        pixels += width * height
        if pixels > limits.max_request_pixels:
            raise ImageTooLargeError(
                f"the photos declare over {limits.max_request_pixels} pixels together: "
                "send fewer or smaller ones"
            )
        photos.append(UploadedPhoto(upload.filename or f"photo {index + 1}", data))
    for photo in photos:
        await run_in_threadpool(load_image, photo.data, limits, max_side_px=limits.max_face_side_px)
    return photos

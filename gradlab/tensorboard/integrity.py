"""Find damaged TensorBoard event files: truncated, corrupted, or not event files at all.

An event file is a sequence of TFRecords: an 8-byte length, a 4-byte masked
CRC-32C of the length, the data, and a 4-byte masked CRC-32C of the data.
TensorBoard's reader stops quietly at the first record that does not check
out (it cannot tell a damaged file from one still being written), so a reader
that trusts it returns partial data or nothing without a word.
:func:`damage` walks the records itself and says where the first bad one is.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

PAYLOAD_CHECK_BYTES = 16 << 20
"""Files up to this size (16 MiB) also have every record's data checksummed.

The checksum is computed in pure Python (about 4 MB/s), so beyond this size
only the record framing (lengths and their checksums) is verified."""

_HEADER = 12  # length (8 bytes) and its checksum (4)
_FOOTER = 4  # the data's checksum


def damage(path: Path) -> str | None:
    """Why the event file at ``path`` is damaged (where its first bad record starts), or None."""
    data = path.read_bytes()
    size, offset = len(data), 0
    check_payload = size <= PAYLOAD_CHECK_BYTES
    while offset < size:
        where = f"at byte {offset:,} of {size:,}"
        if size - offset < _HEADER:
            return f"it is truncated {where} (a record's header is cut short)"
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + _HEADER])
        if masked_crc32c(header) != length_crc:
            return f"{where} there is no valid record (not an event file, or corrupted)"
        end = offset + _HEADER + length + _FOOTER
        if end > size:
            return f"it is truncated {where} (a record of {length:,} bytes is cut short)"
        if check_payload:
            payload = data[offset + _HEADER : end - _FOOTER]
            (payload_crc,) = struct.unpack("<I", data[end - _FOOTER : end])
            if masked_crc32c(payload) != payload_crc:
                return f"the record {where} is corrupted (its checksum does not match)"
        offset = end
    return None

"""Read and rewrite a Compound File Binary (MS-CFB) such as ``xl/vbaProject.bin``.

Only what the add-in build needs: read every stream, then write the file again with
some streams' contents replaced. The directory (names, tree links, colours, CLSIDs,
state bits, timestamps) is copied entry by entry from the input; only each entry's
start sector and size are recomputed, so readers see the same tree as before.

The output is a version 3 file (512-byte sectors, 64-byte mini sectors), laid out as
big streams, mini stream, directory, mini FAT, FAT. Deterministic: same input and
replacements give the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
ENTRY_SIZE = 128

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

TYPE_UNUSED = 0
TYPE_STORAGE = 1
TYPE_STREAM = 2
TYPE_ROOT = 5

HEADER_DIFAT_SLOTS = 109


class CfbError(ValueError):
    """The input is not a compound file this module can handle."""


@dataclass(frozen=True)
class Entry:
    """One 128-byte directory entry, kept raw so it can be written back unchanged."""

    raw: bytes
    """The entry as stored in the input."""

    @property
    def name(self) -> str:
        length = struct.unpack_from("<H", self.raw, 64)[0]
        return self.raw[: max(length - 2, 0)].decode("utf-16-le")

    @property
    def type(self) -> int:
        return self.raw[66]

    @property
    def left(self) -> int:
        return struct.unpack_from("<I", self.raw, 68)[0]

    @property
    def right(self) -> int:
        return struct.unpack_from("<I", self.raw, 72)[0]

    @property
    def child(self) -> int:
        return struct.unpack_from("<I", self.raw, 76)[0]

    @property
    def start(self) -> int:
        return struct.unpack_from("<I", self.raw, 116)[0]

    @property
    def size(self) -> int:
        # Version 3 files only use the low 32 bits; the high ones may hold garbage.
        return struct.unpack_from("<I", self.raw, 120)[0]

    def renamed(self, name: str) -> Entry:
        """The entry with another name (at most 31 UTF-16 characters)."""
        encoded = name.encode("utf-16-le") + b"\0\0"
        if len(encoded) > 64:
            raise CfbError(f"name {name!r} is longer than 31 characters")
        return Entry(encoded.ljust(64, b"\0") + struct.pack("<H", len(encoded)) + self.raw[66:])

    def placed(self, start: int, size: int) -> bytes:
        """The entry with a new start sector and stream size."""
        return self.raw[:116] + struct.pack("<IQ", start, size)


def _sectors(data: bytes) -> int:
    return (len(data) + SECTOR_SIZE - 1) // SECTOR_SIZE


class CompoundFile:
    """A parsed compound file: its directory entries and each stream's bytes."""

    def __init__(self, data: bytes) -> None:
        if data[:8] != SIGNATURE:
            raise CfbError("not a compound file (bad signature)")
        (
            minor,
            major,
            _bom,
            sector_shift,
            mini_shift,
        ) = struct.unpack_from("<HHHHH", data, 24)
        if major != 3 or sector_shift != 9 or mini_shift != 6:
            raise CfbError(
                f"only version 3 files with 512-byte sectors are supported "
                f"(got version {major}, sector shift {sector_shift})"
            )
        self.minor_version = minor
        self.header_clsid = data[8:24]
        (
            n_fat,
            first_dir,
            _txn,
            cutoff,
            first_minifat,
            n_minifat,
            first_difat,
            n_difat,
        ) = struct.unpack_from("<8I", data, 44)
        if cutoff != MINI_STREAM_CUTOFF:
            raise CfbError(f"unexpected mini stream cutoff {cutoff}")
        self._data = data
        fat_sectors = list(struct.unpack_from(f"<{HEADER_DIFAT_SLOTS}I", data, 76))
        sector = first_difat
        for _ in range(n_difat):
            words = struct.unpack_from("<128I", self._sector(sector))
            fat_sectors.extend(words[:127])
            sector = words[127]
        fat_sectors = fat_sectors[:n_fat]
        self._fat = [w for s in fat_sectors for w in struct.unpack("<128I", self._sector(s))]

        dir_bytes = self._chain(first_dir)
        self.entries = [
            Entry(dir_bytes[i : i + ENTRY_SIZE]) for i in range(0, len(dir_bytes), ENTRY_SIZE)
        ]
        root = self.entries[0]
        if root.type != TYPE_ROOT:
            raise CfbError("first directory entry is not the root")
        self._mini_stream = self._chain(root.start)[: root.size]
        minifat_bytes = self._chain(first_minifat) if n_minifat else b""
        self._minifat = list(struct.unpack(f"<{len(minifat_bytes) // 4}I", minifat_bytes))

    def _sector(self, index: int) -> bytes:
        offset = (index + 1) * SECTOR_SIZE
        return self._data[offset : offset + SECTOR_SIZE]

    def _chain(self, start: int) -> bytes:
        out = []
        sector = start
        seen = set()
        while sector != ENDOFCHAIN:
            if sector in seen or sector >= len(self._fat):
                raise CfbError(f"broken FAT chain at sector {sector}")
            seen.add(sector)
            out.append(self._sector(sector))
            sector = self._fat[sector]
        return b"".join(out)

    def _mini_chain(self, start: int) -> bytes:
        out = []
        sector = start
        seen = set()
        while sector != ENDOFCHAIN:
            if sector in seen or sector >= len(self._minifat):
                raise CfbError(f"broken mini FAT chain at mini sector {sector}")
            seen.add(sector)
            offset = sector * MINI_SECTOR_SIZE
            out.append(self._mini_stream[offset : offset + MINI_SECTOR_SIZE])
            sector = self._minifat[sector]
        return b"".join(out)

    def stream_bytes(self, sid: int) -> bytes:
        """Contents of the stream in directory entry ``sid``."""
        entry = self.entries[sid]
        if entry.type != TYPE_STREAM:
            raise CfbError(f"directory entry {sid} is not a stream")
        if entry.size == 0:
            return b""
        if entry.size < MINI_STREAM_CUTOFF:
            return self._mini_chain(entry.start)[: entry.size]
        return self._chain(entry.start)[: entry.size]

    def paths(self) -> dict[str, int]:
        """Map 'Storage/Stream' paths (as olefile spells them) to directory entry ids."""
        found: dict[str, int] = {}

        def walk(sid: int, prefix: str) -> None:
            stack = [sid]
            while stack:
                current = stack.pop()
                if current == NOSTREAM:
                    continue
                entry = self.entries[current]
                path = prefix + entry.name
                found[path] = current
                if entry.type == TYPE_STORAGE:
                    walk(entry.child, path + "/")
                stack.extend((entry.left, entry.right))

        walk(self.entries[0].child, "")
        return found

    def read(self, path: str) -> bytes:
        """Contents of the stream at ``path`` (case-insensitive, '/'-separated)."""
        by_lower = {p.lower(): sid for p, sid in self.paths().items()}
        try:
            return self.stream_bytes(by_lower[path.lower()])
        except KeyError:
            raise CfbError(f"no stream {path!r} in the compound file") from None

    def rename(self, path: str, name: str) -> None:
        """Give the entry at ``path`` a new ``name``; refused when that would change its place
        among its siblings (the directory's red-black tree is ordered by length, then by
        upper-case name, and is kept as it is)."""
        by_lower = {p.lower(): sid for p, sid in self.paths().items()}
        if path.lower() not in by_lower:
            raise CfbError(f"no entry {path!r} in the compound file")
        sid = by_lower[path.lower()]
        old = self.entries[sid]
        self.entries[sid] = old.renamed(name)
        parent = path.rpartition("/")[0]
        siblings = [self.entries[i] for i in self._in_order(self._child_of(parent))]
        keys = [(len(e.name), e.name.upper()) for e in siblings]
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            self.entries[sid] = old
            raise CfbError(f"renaming {path!r} to {name!r} would reorder the directory tree")

    def _child_of(self, storage_path: str) -> int:
        if not storage_path:
            return self.entries[0].child
        sid = {p.lower(): i for p, i in self.paths().items()}[storage_path.lower()]
        return self.entries[sid].child

    def _in_order(self, sid: int) -> list[int]:
        if sid == NOSTREAM:
            return []
        e = self.entries[sid]
        return [*self._in_order(e.left), sid, *self._in_order(e.right)]

    def write(
        self, replacements: dict[str, bytes] | None = None, renames: dict[str, str] | None = None
    ) -> bytes:
        """Serialise the file: entries in ``renames`` (path -> new name) renamed first, then
        the streams named (by their new paths) in ``replacements`` swapped in."""
        for path, name in (renames or {}).items():
            self.rename(path, name)
        by_lower = {p.lower(): sid for p, sid in self.paths().items()}
        contents: dict[int, bytes] = {}
        for path, data in (replacements or {}).items():
            if path.lower() not in by_lower:
                raise CfbError(f"no stream {path!r} in the compound file")
            contents[by_lower[path.lower()]] = data
        for sid, entry in enumerate(self.entries):
            if entry.type == TYPE_STREAM and sid not in contents:
                contents[sid] = self.stream_bytes(sid)
        return _serialise(self, contents)


def _serialise(cf: CompoundFile, contents: dict[int, bytes]) -> bytes:
    fat: list[int] = []
    body: list[bytes] = []

    def place(data: bytes) -> int:
        """Append ``data`` as a chain of whole sectors; return its first sector."""
        n = _sectors(data)
        if n == 0:
            return ENDOFCHAIN
        first = len(fat)
        fat.extend(range(first + 1, first + n))
        fat.append(ENDOFCHAIN)
        body.append(data.ljust(n * SECTOR_SIZE, b"\0"))
        return first

    placement: dict[int, tuple[int, int]] = {}
    minifat: list[int] = []
    mini: list[bytes] = []
    for sid in sorted(contents):
        data = contents[sid]
        if len(data) == 0:
            placement[sid] = (ENDOFCHAIN, 0)
        elif len(data) < MINI_STREAM_CUTOFF:
            n = (len(data) + MINI_SECTOR_SIZE - 1) // MINI_SECTOR_SIZE
            first = len(minifat)
            minifat.extend(range(first + 1, first + n))
            minifat.append(ENDOFCHAIN)
            mini.append(data.ljust(n * MINI_SECTOR_SIZE, b"\0"))
            placement[sid] = (first, len(data))
        else:
            placement[sid] = (place(data), len(data))

    mini_stream = b"".join(mini)
    root_start = place(mini_stream) if mini_stream else ENDOFCHAIN

    dir_entries = []
    for sid, entry in enumerate(cf.entries):
        if entry.type == TYPE_ROOT:
            dir_entries.append(entry.placed(root_start, len(mini_stream)))
        elif entry.type == TYPE_STREAM:
            dir_entries.append(entry.placed(*placement[sid]))
        else:
            dir_entries.append(entry.raw)
    first_dir = place(b"".join(dir_entries))

    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    first_minifat = place(minifat_bytes) if minifat else ENDOFCHAIN
    n_minifat = _sectors(minifat_bytes)

    # The FAT describes itself: grow it until it has a slot for every sector.
    n_fat = 1
    while len(fat) + n_fat > n_fat * (SECTOR_SIZE // 4):
        n_fat += 1
    if n_fat > HEADER_DIFAT_SLOTS:
        raise CfbError("file too large: DIFAT sectors are not supported")
    fat_start = len(fat)
    fat.extend([FATSECT] * n_fat)
    fat.extend([FREESECT] * (n_fat * (SECTOR_SIZE // 4) - len(fat)))
    body.append(struct.pack(f"<{len(fat)}I", *fat))

    difat = list(range(fat_start, fat_start + n_fat))
    difat += [FREESECT] * (HEADER_DIFAT_SLOTS - len(difat))
    header = (
        SIGNATURE
        + cf.header_clsid
        + struct.pack("<HHHHH", cf.minor_version, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack(
            "<9I",
            0,  # number of directory sectors: must be 0 in version 3
            n_fat,
            first_dir,
            0,  # transaction signature
            MINI_STREAM_CUTOFF,
            first_minifat,
            n_minifat,
            ENDOFCHAIN,  # first DIFAT sector
            0,  # number of DIFAT sectors
        )
        + struct.pack(f"<{HEADER_DIFAT_SLOTS}I", *difat)
    )
    assert len(header) == SECTOR_SIZE
    return header + b"".join(body)

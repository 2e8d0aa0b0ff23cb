"""MS-OVBA compression and swapping one module's source inside a ``vbaProject.bin``.

``compress`` implements the CompressedContainer algorithm of [MS-OVBA] 2.4.1.3
(chunks of 4096 bytes, copy tokens found by longest match, raw chunks when a chunk
does not shrink). ``decompress`` is its inverse (2.4.1.3.1) and is used here to read
the ``dir`` stream; the tests check ``compress`` against oletools' independent
``decompress_stream``.

``replace_module_source`` changes one module and nothing else: the ``dir`` stream and
every other stream keep their bytes, the module stream keeps everything before its
MODULEOFFSET (the performance cache) and gets the new source, compressed, after it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from addin.excel.cfb import CompoundFile

CHUNK_SIZE = 4096
SIGNATURE_BYTE = 0x01
_RAW_CHUNK_HEADER = 0x3FFF  # size bits 0xFFF, signature 0b011, flag 0


class VbaError(ValueError):
    """A VBA project or compressed container that cannot be read or changed."""


# --- compression ---------------------------------------------------------------------


def _copy_token_help(difference: int) -> tuple[int, int]:
    """Bit count and maximum length for a copy token at ``difference`` bytes into a chunk."""
    bit_count = max((difference - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """Token sequences for ``data[start:end]`` (at most 4096 bytes), without header."""
    out = bytearray()
    candidates: dict[bytes, list[int]] = {}
    pos = start

    def remember(p: int) -> None:
        if p + 3 <= end:
            candidates.setdefault(data[p : p + 3], []).append(p)

    while pos < end:
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            bit_count, max_length = _copy_token_help(pos - start)
            limit = min(max_length, end - pos)
            best_len, best_at = 0, 0
            if limit >= 3:
                # Nearest candidate first; a later one only wins if strictly longer.
                for cand in reversed(candidates.get(data[pos : pos + 3], ())):
                    if best_len and data[cand + best_len] != data[pos + best_len]:
                        continue
                    length = 3
                    while length < limit and data[cand + length] == data[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_at = length, cand
                        if length == limit:
                            break
            if best_len >= 3:
                offset = pos - best_at
                token = ((offset - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                for p in range(pos, pos + best_len):
                    remember(p)
                pos += best_len
            else:
                out.append(data[pos])
                remember(pos)
                pos += 1
        out[flag_index] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer.

    A chunk whose tokens would not fit in 4096 bytes is stored raw; the spec pads a raw
    chunk to 4096 bytes with 0x00, so only a final chunk of more than ~3640 bytes that
    does not compress at all (random data, never VBA source) comes back with NULs.
    """
    out = bytearray([SIGNATURE_BYTE])
    for start in range(0, len(data), CHUNK_SIZE):
        end = min(start + CHUNK_SIZE, len(data))
        tokens = _compress_chunk(data, start, end)
        if len(tokens) <= CHUNK_SIZE:
            header = 0xB000 | (len(tokens) + 2 - 3)  # flag 1, signature 0b011
            out += struct.pack("<H", header) + tokens
        else:
            out += struct.pack("<H", _RAW_CHUNK_HEADER)
            out += data[start:end].ljust(CHUNK_SIZE, b"\0")
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer."""
    if not container or container[0] != SIGNATURE_BYTE:
        raise VbaError("compressed container does not start with signature byte 0x01")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise VbaError(f"truncated chunk header at byte {pos}")
        header = struct.unpack_from("<H", container, pos)[0]
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0x7 != 0b011:
            raise VbaError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + size, len(container))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += container[pos : pos + CHUNK_SIZE]
            pos += CHUNK_SIZE
            continue
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(container[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", container, pos)[0]
                pos += 2
                bit_count, _ = _copy_token_help(len(out) - chunk_start)
                length = (token & (0xFFFF >> bit_count)) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > len(out) - chunk_start:
                    raise VbaError("copy token points before the start of its chunk")
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


# --- the dir stream ------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One module as the ``dir`` stream describes it."""

    name: str
    """MODULENAME: the name VBA code and ribbon callbacks use."""
    stream_name: str
    """MODULESTREAMNAME: the stream under ``VBA/`` holding the module."""
    offset: int
    """MODULEOFFSET: where the compressed source starts in that stream."""


@dataclass(frozen=True)
class ProjectInfo:
    code_page: int
    """PROJECTCODEPAGE: how module names and source text are encoded."""
    modules: tuple[Module, ...]


def parse_dir(dir_stream: bytes) -> ProjectInfo:
    """Module names, stream names and offsets from a decompressed ``dir`` stream."""
    code_page = 1252
    modules: list[Module] = []
    name = stream = None
    offset = None
    pos = 0
    while pos + 6 <= len(dir_stream):
        rec_id, size = struct.unpack_from("<HI", dir_stream, pos)
        if rec_id == 0x0009:  # PROJECTVERSION: Reserved says 4, but 6 bytes follow
            size = 6
        body = dir_stream[pos + 6 : pos + 6 + size]
        pos += 6 + size
        if rec_id == 0x0003:
            code_page = struct.unpack("<H", body)[0]
        elif rec_id == 0x0019:
            name, stream, offset = body.decode(f"cp{code_page}"), None, None
        elif rec_id == 0x001A:
            stream = body.decode(f"cp{code_page}")
        elif rec_id == 0x0031:
            offset = struct.unpack("<I", body)[0]
        elif rec_id == 0x002B:
            if name is None or offset is None:
                raise VbaError("MODULE record without a name or MODULEOFFSET in dir stream")
            modules.append(Module(name, stream or name, offset))
            name = None
        elif rec_id == 0x0010:  # dir stream terminator
            break
    return ProjectInfo(code_page, tuple(modules))


def read_project(vba_project: bytes) -> tuple[CompoundFile, ProjectInfo]:
    cf = CompoundFile(vba_project)
    return cf, parse_dir(decompress(cf.read("VBA/dir")))


def module_source(vba_project: bytes, module_name: str) -> str:
    """The source text of one module, as stored (CRLF line ends, Attribute lines included)."""
    cf, info = read_project(vba_project)
    module = _find_module(info, module_name)
    stream = cf.read(f"VBA/{module.stream_name}")
    return decompress(stream[module.offset :]).decode(f"cp{info.code_page}")


def replace_module_source(vba_project: bytes, module_name: str, source: str) -> bytes:
    """Return ``vba_project`` with the source of module ``module_name`` replaced.

    ``source`` must be the full module text including its ``Attribute VB_Name`` line;
    line ends are normalised to CRLF as the VBA editor stores them.
    """
    cf, info = read_project(vba_project)
    module = _find_module(info, module_name)
    text = source.replace("\r\n", "\n").replace("\n", "\r\n")
    if f'Attribute VB_Name = "{module.name}"' not in text:
        raise VbaError(
            f"new source for module {module.name} must keep its line "
            f'Attribute VB_Name = "{module.name}"'
        )
    encoded = text.encode(f"cp{info.code_page}")
    compressed = compress(encoded)
    if decompress(compressed) != encoded:
        raise VbaError(f"compressed source of module {module.name} does not read back")
    path = f"VBA/{module.stream_name}"
    old = cf.read(path)
    return cf.write({path: old[: module.offset] + compressed})


def _find_module(info: ProjectInfo, module_name: str) -> Module:
    for module in info.modules:
        if module.name.lower() == module_name.lower():
            return module
    names = ", ".join(m.name for m in info.modules)
    raise VbaError(f"no VBA module {module_name!r} in the project (modules: {names})")


# --- a clean rewrite: new sources without compiled code, renamed modules -------------------

_PROJECTNAME = 0x0004
_PROJECTVERSION = 0x0009
_MODULENAME = 0x0019
_MODULENAMEUNICODE = 0x0047
_MODULESTREAMNAME = 0x001A
_MODULESTREAMNAMEUNICODE = 0x0032
_MODULEOFFSET = 0x0031
_MODULE_END = 0x002B


def _dir_records(dir_stream: bytes) -> list[tuple[int, int, bytes]]:
    """The ``dir`` stream as (id, size field, body) records, in order."""
    records = []
    pos = 0
    while pos + 6 <= len(dir_stream):
        rec_id, size = struct.unpack_from("<HI", dir_stream, pos)
        length = 6 if rec_id == _PROJECTVERSION else size
        records.append((rec_id, size, dir_stream[pos + 6 : pos + 6 + length]))
        pos += 6 + length
    return records


def _dir_bytes(records: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray()
    for rec_id, size, body in records:
        size = size if rec_id == _PROJECTVERSION else len(body)
        out += struct.pack("<HI", rec_id, size) + body
    return bytes(out)


def _rewritten_dir(
    records: list[tuple[int, int, bytes]], project: str, renames: dict[str, str], fresh: set[str]
) -> list[tuple[int, int, bytes]]:
    """Records with the project and modules renamed and MODULEOFFSET 0 for ``fresh`` modules
    (names after renaming), whose streams then hold source only."""
    out = []
    current = ""
    for rec_id, size, body in records:
        if rec_id == _PROJECTNAME:
            body = project.encode("ascii")
        elif rec_id == _MODULENAME:
            current = renames.get(body.decode("latin-1"), body.decode("latin-1"))
            body = current.encode("ascii")
        elif rec_id in (_MODULESTREAMNAME,):
            body = current.encode("ascii")
        elif rec_id in (_MODULENAMEUNICODE, _MODULESTREAMNAMEUNICODE):
            body = current.encode("utf-16-le")
        elif rec_id == _MODULEOFFSET and current in fresh:
            body = struct.pack("<I", 0)
        out.append((rec_id, size, body))
    return out


def _rewritten_project_text(text: str, project: str, renames: dict[str, str]) -> str:
    """The ``PROJECT`` stream's lines with the project's and the modules' new names."""
    lines = []
    for line in text.split("\r\n"):
        key, eq, value = line.partition("=")
        if key == "Name" and eq:
            line = f'Name="{project}"'
        elif key in ("Module", "Class", "BaseClass") and value in renames:
            line = f"{key}={renames[value]}"
        elif key in renames and eq:
            line = f"{renames[key]}={value}"
        lines.append(line)
    return "\r\n".join(lines)


def _projectwm(names: list[str]) -> bytes:
    """The ``PROJECTwm`` stream: each module name in MBCS and UTF-16, then a terminator."""
    out = b"".join(n.encode("ascii") + b"\0" + n.encode("utf-16-le") + b"\0\0" for n in names)
    return out + b"\0\0"


def rewrite_project(
    vba_project: bytes, project: str, renames: dict[str, str], sources: dict[str, str]
) -> bytes:
    """Return ``vba_project`` named ``project``, modules renamed (old -> new name) and the
    modules in ``sources`` (new names; text stored as given) holding only their new source:
    no performance cache, MODULEOFFSET 0, as xlwings stores its own module, so Excel
    compiles them from the text and no stale compiled code (``VBA Stomping`` to scanners)
    is left behind."""
    cf, info = read_project(vba_project)
    known = {m.name for m in info.modules}
    if missing := set(renames) - known:
        raise VbaError(f"no VBA module(s) {sorted(missing)} to rename (modules: {sorted(known)})")
    new_names = [renames.get(m.name, m.name) for m in info.modules]
    replaced: dict[str, bytes] = {}
    for name, source in sources.items():
        if name not in new_names:
            raise VbaError(f"no VBA module {name!r} after renaming (modules: {new_names})")
        if f'Attribute VB_Name = "{name}"' not in source:
            raise VbaError(f'new source for module {name} must start Attribute VB_Name = "{name}"')
        encoded = source.encode(f"cp{info.code_page}")
        replaced[f"VBA/{name}"] = compress(encoded)
    records = _rewritten_dir(
        _dir_records(decompress(cf.read("VBA/dir"))), project, renames, set(sources)
    )
    replaced["VBA/dir"] = compress(_dir_bytes(records))
    project_text = cf.read("PROJECT").decode(f"cp{info.code_page}")
    replaced["PROJECT"] = _rewritten_project_text(project_text, project, renames).encode(
        f"cp{info.code_page}"
    )
    replaced["PROJECTwm"] = _projectwm(new_names)
    renamed_streams = {f"VBA/{old}": new for old, new in renames.items()}
    return cf.write(replaced, renamed_streams)

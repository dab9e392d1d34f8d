#!/usr/bin/env python3
"""Rebuild (or check) the attachment-format corpus of DOMAIN.md §6:
casia-core/tests/corpus/attachments/{accept,reject}/ and its README.md, plus the
benchmark input benches/data/one_mib.docx.

The files are committed; this script records how each one was made (provenance)
and can rebuild an equivalent corpus. A rebuild is not byte-identical: ZIP
timestamps, LibreOffice output and document metadata change from run to run.

    python3 scripts/attachment-corpus.py --check   # re-judge the committed files (default)
    python3 scripts/attachment-corpus.py --write   # rebuild accept/, reject/, README.md, the bench file

--check needs only olefile; it judges every committed file with a small Python
reading of DOMAIN.md §6 (reference_verdict below — an independent oracle for the
labels, *not* the Rust detector) and compares it with the folder (accept/reject)
and the media type written in README.md.

--write needs (Debian 12 and PyPI; the versions that made the committed files are
in the README):

    apt-get install -y --no-install-recommends libreoffice-writer-nogui \
        libreoffice-calc-nogui libreoffice-impress-nogui libreoffice-draw-nogui \
        wixl zip fastjar lame libtiff-tools
    pip install python-docx openpyxl odfpy xlwt Pillow python-pptx fpdf2 \
        pyzipper olefile msoffcrypto-tool EbookLib

LibreOffice is run as `soffice --headless --convert-to FORMAT` with a throw-away
user profile; without `soffice` (or with --no-libreoffice) the LibreOffice-made
files are left out. Crafted files (hostile ZIP / compound files, HTML, SVG,
executable headers) are written byte by byte here; compound files (OLE/CFB) with
the small MS-CFB writer in `cfb_file`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import posixpath
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "casia-core" / "tests" / "corpus" / "attachments"
BENCH = REPO / "benches" / "data" / "one_mib.docx"
MAX_FILE = 50 * 1024
BENCH_TARGET = 1024 * 1024

# The media types of casia-core/src/attachment/format.rs (AttachmentFormat::media_type).
MEDIA = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "tiff": "image/tiff",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "rtf": "application/rtf",
    "text": "text/plain; charset=utf-8",
    "xml": "application/xml",
}

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
DOTX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
VBA_CT = "application/vnd.ms-office.vbaProject"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"

OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
CLSID_WORD = "00020906-0000-0000-c000-000000000046"
CLSID_EXCEL = "00020820-0000-0000-c000-000000000046"
CLSID_MSG = "00020d0b-0000-0000-c000-000000000046"

FIXED_DATE = (2024, 5, 6, 10, 0, 0)

INFORME = (
    "Informe del perito\n"
    "\n"
    "El vehículo matrícula 1234 ABC presentaba daños en la puerta trasera "
    "izquierda y en el parachoques. La señal de tráfico estaba doblada.\n"
    "Acción recomendada: reparación en taller; año de fabricación 2019.\n"
)
HOJA_CSV = "Matrícula;Marca;Año;Importe\n1234ABC;Seat;2021;1.250,00\n5678DEF;Peugeot;2019;830,50\n"


# --------------------------------------------------------------------------- #
# Tool versions (for the README)

_VERSIONS: dict[str, str] = {}


def tool(name: str) -> str:
    """'python-docx 1.2.0', 'LibreOffice 7.4.7.2', 'zip 3.0-13 (Debian)', …"""
    if name in _VERSIONS:
        return _VERSIONS[name]
    debian = {"zip": "zip", "wixl": "wixl", "fastjar": "fastjar", "lame": "lame",
              "tiffcp": "libtiff-tools"}
    if name == "LibreOffice":
        out = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout
        m = re.search(r"LibreOffice (\S+)", out)
        version = f"LibreOffice {m.group(1) if m else '?'}"
    elif name == "Python":
        version = f"Python {sys.version.split()[0]}"
    elif name in debian:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", debian[name]],
                             capture_output=True, text=True).stdout.strip()
        version = f"{name} {out or '?'} (Debian {debian[name]})"
    else:
        version = f"{name} {importlib.metadata.version(name)}"
    _VERSIONS[name] = version
    return version


def script_tool() -> str:
    return f"scripts/attachment-corpus.py ({tool('Python')})"


# --------------------------------------------------------------------------- #
# ZIP helpers

def zip_entries(data: bytes) -> list[tuple[str, bytes, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i), i.compress_type) for i in z.infolist()]


def make_zip(entries) -> bytes:
    """entries: (name, data[, compress_type]); written in the given order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for entry in entries:
            name, data = entry[0], entry[1]
            compress = entry[2] if len(entry) > 2 else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def replace_entry(entries, name, data):
    return [(n, data if n == name else d, c) for n, d, c in entries]


def get_entry(entries, name) -> bytes:
    return next(d for n, d, _ in entries if n == name)


def drop_parts(entries, parts: set[str]):
    """Removes OPC parts together with their content-type overrides and the
    relationships that point at them, so that the package stays consistent."""
    kept = []
    for name, data, compress in entries:
        if name in parts:
            continue
        if name == "[Content_Types].xml":
            text = data.decode("utf-8")
            for part in parts:
                text = re.sub(r'<Override PartName="/%s"[^>]*/>' % re.escape(part), "", text)
            data = text.encode("utf-8")
        elif name.endswith(".rels"):
            folder = posixpath.dirname(posixpath.dirname(name))  # X/_rels/Y.rels -> X

            def keep(m: re.Match) -> str:
                target = re.search(r'Target="([^"]+)"', m.group(0)).group(1)
                resolved = target.lstrip("/") if target.startswith("/") else \
                    posixpath.normpath(posixpath.join(folder, target))
                return "" if resolved in parts else m.group(0)

            data = re.sub(r"<Relationship [^>]*/>", keep, data.decode("utf-8")).encode("utf-8")
        kept.append((name, data, compress))
    return kept


def set_content_type(entries, old: str, new: str):
    ct = get_entry(entries, "[Content_Types].xml").decode("utf-8")
    assert old in ct, old
    return replace_entry(entries, "[Content_Types].xml", ct.replace(old, new).encode("utf-8"))


def add_macro_project(entries, rels_name: str, part: str):
    """Adds a VBA project part (`word/vbaProject.bin` / `xl/vbaProject.bin`)
    with its Default content type and relationship, as Office writes them."""
    ct = get_entry(entries, "[Content_Types].xml").decode("utf-8")
    ct = re.sub(r"(<Types [^>]*>)",
                r'\1<Default Extension="bin" ContentType="%s"/>' % VBA_CT, ct, count=1)
    rels = get_entry(entries, rels_name).decode("utf-8")
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdVba1" Type="{VBA_REL}" Target="vbaProject.bin"/></Relationships>')
    entries = replace_entry(entries, "[Content_Types].xml", ct.encode("utf-8"))
    entries = replace_entry(entries, rels_name, rels.encode("utf-8"))
    return entries + [(part, vba_project_bin(), zipfile.ZIP_DEFLATED)]


# --------------------------------------------------------------------------- #
# A minimal MS-CFB (OLE compound file) writer: version 3, 512-byte sectors,
# mini stream for streams under 4096 bytes, no DIFAT sectors (files < 7 MiB).

ENDOFCHAIN, FATSECT, FREESECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF


def cfb_file(streams: dict[str, bytes], root_clsid: str | None = None,
             storage_clsids: dict[str, str] | None = None) -> bytes:
    """streams: {'Name': data, 'Storage/Name': data, …}; CLSIDs as UUID strings."""
    storage_clsids = storage_clsids or {}

    class Node:
        def __init__(self, name, kind, data=b"", clsid=None):
            self.name, self.kind, self.data = name, kind, data
            self.clsid = uuid.UUID(clsid).bytes_le if clsid else b"\0" * 16
            self.children: dict[str, Node] = {}
            self.left = self.right = self.child = NOSTREAM
            self.start, self.size = ENDOFCHAIN, 0

    root = Node("Root Entry", 5, clsid=root_clsid)
    for path, data in streams.items():
        *folders, leaf = path.split("/")
        node, walked = root, []
        for folder in folders:
            walked.append(folder)
            node = node.children.setdefault(
                folder, Node(folder, 1, clsid=storage_clsids.get("/".join(walked))))
        node.children[leaf] = Node(leaf, 2, data)

    def order(name):  # MS-CFB 2.6.4: shorter names first, then upper-cased
        return (len(name.encode("utf-16-le")), name.upper())

    nodes = [root]
    for node in nodes:  # breadth first; the list grows while it is walked
        nodes.extend(sorted(node.children.values(), key=lambda n: order(n.name)))
    index = {id(n): i for i, n in enumerate(nodes)}

    def tree(siblings):  # a balanced binary search tree of one storage's children
        if not siblings:
            return NOSTREAM
        mid = len(siblings) // 2
        top = siblings[mid]
        top.left, top.right = tree(siblings[:mid]), tree(siblings[mid + 1:])
        return index[id(top)]

    for node in nodes:
        if node.kind in (1, 5):
            node.child = tree(sorted(node.children.values(), key=lambda n: order(n.name)))

    mini, minifat, big = bytearray(), [], []
    for node in nodes:
        if node.kind != 2:
            continue
        node.size = len(node.data)
        if node.size == 0:
            node.start = ENDOFCHAIN
        elif node.size < 4096:
            count = -(-node.size // 64)
            node.start = len(minifat)
            minifat.extend(range(node.start + 1, node.start + count))
            minifat.append(ENDOFCHAIN)
            mini += node.data + b"\0" * (count * 64 - node.size)
        else:
            big.append(node)

    n_dir = -(-len(nodes) // 4)
    n_minifat = -(-len(minifat) // 128)
    n_mini = -(-len(mini) // 512)
    n_big = [-(-n.size // 512) for n in big]
    n_other = n_dir + n_minifat + n_mini + sum(n_big)
    n_fat = 1
    while n_fat * 128 < n_other + n_fat:
        n_fat += 1
    assert n_fat <= 109, "file too large for a header-only DIFAT"

    fat = [FREESECT] * (n_fat * 128)
    next_sector = 0

    def alloc(count):
        nonlocal next_sector
        start = next_sector
        for i in range(count):
            fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN
        next_sector += count
        return start

    first_dir = alloc(n_dir)
    first_minifat = alloc(n_minifat) if n_minifat else ENDOFCHAIN
    if n_mini:
        root.start, root.size = alloc(n_mini), len(mini)
    for node, count in zip(big, n_big):
        node.start = alloc(count)
    fat_sectors = list(range(next_sector, next_sector + n_fat))
    for s in fat_sectors:
        fat[s] = FATSECT

    def dirent(node):
        if node is None:
            return b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) \
                + b"\0" * 36 + struct.pack("<IQ", 0, 0)
        name = node.name.encode("utf-16-le")
        assert len(name) <= 62, node.name
        return (name + b"\0" * (64 - len(name))
                + struct.pack("<HBBIII", len(name) + 2, node.kind, 1, node.left, node.right, node.child)
                + node.clsid + struct.pack("<I", 0) + b"\0" * 16
                + struct.pack("<IQ", node.start, node.size))

    directory = b"".join(dirent(n) for n in nodes) + dirent(None) * (n_dir * 4 - len(nodes))
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_bytes += struct.pack("<I", FREESECT) * (n_minifat * 128 - len(minifat))

    header = OLE_SIGNATURE + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, n_fat, first_dir, 0, 4096, first_minifat,
                          n_minifat, ENDOFCHAIN, 0)
    header += b"".join(struct.pack("<I", s) for s in fat_sectors)
    header += struct.pack("<I", FREESECT) * (109 - n_fat)
    assert len(header) == 512

    def padded(data: bytes, sectors: int) -> bytes:
        return bytes(data) + b"\0" * (sectors * 512 - len(data))

    body = padded(directory, n_dir) + padded(minifat_bytes, n_minifat) + padded(mini, n_mini)
    body += b"".join(padded(n.data, c) for n, c in zip(big, n_big))
    body += b"".join(struct.pack("<I", v) for v in fat)
    return header + body


def ovba_compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 CompressedContainer using literal tokens only (valid, not small)."""
    out = bytearray(b"\x01")
    for at in range(0, len(data), 4096):
        chunk = data[at:at + 4096]
        body = bytearray()
        for i in range(0, len(chunk), 8):
            body += b"\x00" + chunk[i:i + 8]
        out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
    return bytes(out)


def vba_project_bin() -> bytes:
    """A vbaProject.bin-shaped compound file (crafted; not a loadable VBA project)."""
    source = (b'Attribute VB_Name = "ThisDocument"\r\n'
              b"Sub AutoOpen()\r\n    MsgBox \"macro\"\r\nEnd Sub\r\n")
    project = (b'ID="{00000000-0000-0000-0000-000000000000}"\r\nDocument=ThisDocument/&H00000000\r\n'
               b'Name="Project"\r\nHelpContextID="0"\r\nVersionCompatible32="393222000"\r\n'
               b'CMG=""\r\nDPB=""\r\nGC=""\r\n\r\n[Host Extender Info]\r\n')
    return cfb_file({
        "PROJECT": project,
        "PROJECTwm": b"ThisDocument\0" + "ThisDocument".encode("utf-16-le") + b"\0\0\0",
        "VBA/_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x03\x00",
        "VBA/dir": ovba_compress(b"\x01\x00\x04\x00\x00\x00\x01\x00\x00\x00"),
        "VBA/ThisDocument": ovba_compress(source),
    })


def outlook_msg() -> bytes:
    """An Outlook .msg laid out as MS-OXMSG describes (crafted)."""
    def utf16(s):
        return s.encode("utf-16-le") + b"\0\0"
    strings = {0x001A: "IPM.Note", 0x0037: "Informe del siniestro", 0x1000: "Adjunto el informe.",
               0x0C1A: "Perito"}
    props = bytearray(b"\0" * 8 + struct.pack("<IIII", 0, 0, 0, 0) + b"\0" * 8)
    streams = {}
    for prop_id, value in strings.items():
        data = utf16(value)
        props += struct.pack("<IIII", (prop_id << 16) | 0x001F, 6, len(data), 0)
        streams["__substg1.0_%04X001F" % prop_id] = data
    streams["__properties_version1.0"] = bytes(props)
    for name in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        streams["__nameid_version1.0/" + name] = b""
    return cfb_file(streams, root_clsid=CLSID_MSG)


def summary_information() -> bytes:
    """A \\x05SummaryInformation property set with only a title (PIDSI_TITLE)."""
    title = b"Informe\0"
    prop = struct.pack("<II", 0x1E, len(title)) + title
    prop += b"\0" * (-len(prop) % 4)
    section = struct.pack("<II", 8 + 8 + len(prop), 1) + struct.pack("<II", 2, 16) + prop
    fmtid = uuid.UUID("f29f85e0-4ff9-1068-ab91-08002b27b3d9").bytes_le
    return struct.pack("<HHI16sI", 0xFFFE, 0, 0x00020006, b"\0" * 16, 1) \
        + fmtid + struct.pack("<I", 48) + section


def clear_root_clsid(ole: bytes) -> bytes:
    """Zeroes the root directory entry's CLSID in place (first entry of the
    first directory sector)."""
    first_dir = struct.unpack_from("<I", ole, 48)[0]
    at = (first_dir + 1) * 512 + 80
    return ole[:at] + b"\0" * 16 + ole[at + 16:]


def repack_cfb(ole: bytes, drop: set[str]) -> bytes:
    """Rewrites a compound file with the same streams and CLSIDs, less `drop`."""
    import olefile
    with olefile.OleFileIO(ole) as f:
        streams = {"/".join(p): f.openstream(p).read()
                   for p in f.listdir(streams=True, storages=False) if "/".join(p) not in drop}
        storages = {"/".join(p): f.getclsid(p) for p in f.listdir(streams=False, storages=True)}
        root = f.root.clsid
    return cfb_file(streams, root_clsid=root or None,
                    storage_clsids={k: v for k, v in storages.items() if v})


# --------------------------------------------------------------------------- #
# Crafted executables and media

def windows_pe() -> bytes:
    """A minimal PE32+ console image (x64, one .text section: xor eax,eax; ret)."""
    dos = bytearray(64)
    struct.pack_into("<2sHHHHHHHHHHHHH", dos, 0, b"MZ", 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0)
    struct.pack_into("<I", dos, 0x3C, 0x80)
    stub = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    head = bytes(dos) + stub
    head += b"\0" * (0x80 - len(head))
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x0022)
    opt = struct.pack("<HBBIIIII", 0x20B, 14, 0, 0x200, 0, 0, 0x1000, 0x1000)
    opt += struct.pack("<QIIHHHHHHIIIIHHQQQQII", 0x140000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0,
                       0x2000, 0x200, 0, 3, 0x8160, 0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    opt += b"\0" * (16 * 8)
    section = struct.pack("<8sIIIIIIHHI", b".text", 3, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    image = head + coff + opt + section
    image += b"\0" * (0x200 - len(image))
    return image + (b"\x31\xc0\xc3").ljust(0x200, b"\0")


def elf_executable() -> bytes:
    """A 129-byte static x86-64 ELF that calls exit(0)."""
    code = b"\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05"  # mov eax,60; xor edi,edi; syscall
    base, size = 0x400000, 64 + 56 + len(code)
    ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, base + 120, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return ehdr + phdr + code


def mp3_like() -> bytes:
    """An ID3v2.3 tag (title frame) followed by three silent MPEG-1 Layer III frames."""
    text = b"\x00Declaraci\xf3n"  # ISO-8859-1 encoded frame text, as ID3v2.3 allows
    frame = b"TIT2" + struct.pack(">I", len(text)) + b"\0\0" + text
    body = frame + b"\0" * 64  # padding
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tag = b"ID3\x03\x00\x00" + syncsafe + body
    mpeg = (b"\xff\xfb\x90\x64" + b"\0" * 413) * 3  # 128 kbit/s, 44.1 kHz: 417-byte frames
    return tag + mpeg


def java_class() -> bytes:
    """`public class Hola {}` without a constructor: a valid class file, Java 8."""
    pool = [b"\x07\x00\x02", b"\x01" + struct.pack(">H", 4) + b"Hola",
            b"\x07\x00\x04", b"\x01" + struct.pack(">H", 16) + b"java/lang/Object"]
    return (b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 52, len(pool) + 1) + b"".join(pool)
            + struct.pack(">HHHHHHH", 0x0021, 1, 3, 0, 0, 0, 0))


def apk_like() -> bytes:
    """A ZIP shaped like an Android package (crafted headers, no real code)."""
    axml = struct.pack("<HHI", 0x0003, 8, 8 + 28) + struct.pack("<HHIIIIII", 0x0001, 28, 28, 0, 0, 0, 28, 0)
    dex = b"dex\n035\0" + b"\0" * (0x70 - 8)
    arsc = struct.pack("<HHII", 0x0002, 12, 12, 0)
    manifest = b"Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n"
    return make_zip([("AndroidManifest.xml", axml), ("classes.dex", dex),
                     ("resources.arsc", arsc, zipfile.ZIP_STORED), ("META-INF/MANIFEST.MF", manifest)])


# --------------------------------------------------------------------------- #
# The reference verdict: a plain reading of DOMAIN.md §6, used only to check
# that every file sits in the right folder. It is not the Rust detector.

WHATWG_HTML = ["<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT",
               "<TABLE", "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"]
SVG_NS, XHTML_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
SKIPPED = ZERO_WIDTH + "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def reference_verdict(data: bytes) -> str:
    """'accept:<format key of MEDIA>' or 'reject:<why>'."""
    if not data:
        return "reject:empty"
    if data.startswith(b"%PDF-"):
        return "accept:pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "accept:jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "accept:png"
    if data[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "accept:tiff"
    if data.startswith(b"{\\rtf"):
        return "accept:rtf"
    if data.startswith(b"PK\x03\x04"):
        return zip_verdict(data)
    if data.startswith(OLE_SIGNATURE):
        return ole_verdict(data)
    return text_verdict(data)


def zip_verdict(data: bytes) -> str:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except zipfile.BadZipFile:
        return "reject:broken zip"
    names = {i.filename for i in infos}
    if any(i.flag_bits & 1 for i in infos):
        return "reject:encrypted zip entries"
    if infos and infos[0].filename == "mimetype":
        first = infos[0]
        mimetype = z.read(first).decode("ascii", "replace")
        kind = {MEDIA["odt"]: "odt", MEDIA["ods"]: "ods"}.get(mimetype)
        if kind is None:
            return f"reject:ODF/OCF mimetype {mimetype!r}"
        if first.compress_type != zipfile.ZIP_STORED:
            return "reject:ODF mimetype not stored"
        if not {"content.xml", "META-INF/manifest.xml"} <= names:
            return "reject:ODF without content.xml or manifest"
        return f"accept:{kind}"
    if "[Content_Types].xml" not in names:
        return "reject:zip without [Content_Types].xml or leading mimetype"
    root = ET.fromstring(z.read("[Content_Types].xml"))
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    overrides = {o.get("PartName").lstrip("/"): o.get("ContentType") for o in root.iter(ns + "Override")}
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in root.iter(ns + "Default")}
    all_types = set(overrides.values()) | set(defaults.values())
    if VBA_CT in all_types or any("macroEnabled" in t for t in all_types) or \
            any(n.endswith("vbaProject.bin") for n in names):
        return "reject:macro-enabled OOXML"
    mains = [(part, t) for part, t in overrides.items() if t in (DOCX_MAIN, XLSX_MAIN)]
    if len(mains) != 1:
        return f"reject:OOXML main part types {sorted(set(overrides.values()) & {DOCX_MAIN, XLSX_MAIN, DOTX_MAIN})}"
    part, kind = mains[0]
    if part not in names:
        return f"reject:OOXML main part {part} missing"
    return "accept:docx" if kind == DOCX_MAIN else "accept:xlsx"


def ole_verdict(data: bytes) -> str:
    import olefile
    try:
        f = olefile.OleFileIO(data)
    except Exception as e:  # noqa: BLE001 - any parse failure is a refusal
        return f"reject:broken compound file ({e})"
    with f:
        word, excel = f.exists("WordDocument"), f.exists("Workbook") or f.exists("Book")
    if word and not excel:
        return "accept:doc"
    if excel and not word:
        return "accept:xls"
    return "reject:compound file without a Word or Excel stream"


def text_verdict(data: bytes) -> str:
    if b"\0" in data:
        return "reject:NUL byte"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "reject:not UTF-8"
    body = text.lstrip(SKIPPED)
    for pattern in WHATWG_HTML:
        head = body[:len(pattern) + 1]
        if head[:len(pattern)].upper() == pattern and len(head) > len(pattern) and head[-1] in " >":
            return f"reject:HTML pattern {pattern}"
    if not body.startswith("<"):
        return "accept:text"
    root = xml_root(body)
    if root is not None:
        ns, local = root
        if local in ("svg", "html") or ns in (SVG_NS, XHTML_NS):
            return f"reject:XML root {local} in {ns or 'no namespace'}"
    return "accept:xml"


def xml_root(body: str):
    """(namespace, local name) of the root element, or None."""
    try:
        tag = ET.fromstring(body.encode("utf-8")).tag
        if tag.startswith("{"):
            ns, local = tag[1:].split("}", 1)
            return ns, local
        return "", tag
    except ET.ParseError:
        # Not well-formed: skip the prolog by hand and read the first tag name.
        rest = re.sub(r"^(\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>)*", "", body,
                      flags=re.S | re.I)
        m = re.match(r"<([A-Za-z_][\w.:-]*)", rest)
        if not m:
            return None
        return "", m.group(1).rsplit(":", 1)[-1]


# --------------------------------------------------------------------------- #
# The corpus

class Corpus:
    def __init__(self, out: Path):
        self.out = out
        self.rows: list[tuple[str, str, str, str, str]] = []  # path, what, how, verdict, detail

    def _write(self, folder, name, data):
        path = self.out / folder / name
        path.write_bytes(data)
        assert len(data) < MAX_FILE, f"{folder}/{name} is {len(data)} bytes"

    def accept(self, name, data, kind, what, how):
        self._write("accept", name, data)
        self.rows.append((f"accept/{name}", what, how, "accept", f"`{MEDIA[kind]}`"))

    def reject(self, name, data, what, how, why):
        self._write("reject", name, data)
        self.rows.append((f"reject/{name}", what, how, "reject (`unsupported_format`)", why))


class LibreOffice:
    def __init__(self, work: Path, enabled: bool):
        self.work = work
        self.enabled = enabled and shutil.which("soffice") is not None
        self.profile = work / "lo-profile"

    def convert(self, source: Path, fmt: str, infilter: str | None = None) -> bytes | None:
        if not self.enabled:
            return None
        outdir = self.work / f"lo-{fmt}"
        outdir.mkdir(exist_ok=True)
        cmd = ["soffice", f"-env:UserInstallation=file://{self.profile}", "--headless"]
        if infilter:
            cmd.append(f"--infilter={infilter}")
        cmd += ["--convert-to", fmt, "--outdir", str(outdir), str(source)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        produced = outdir / (source.stem + "." + fmt.split(":")[0])
        return produced.read_bytes()


def python_docx(paragraphs: list[str]) -> bytes:
    import docx
    document = docx.Document()
    document.core_properties.author = "CASIA"
    document.add_heading("Informe del perito", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in zip([(0, 0), (0, 1), (1, 0), (1, 1)], ["Concepto", "Importe", "Reparación", "1.250,00 €"]):
        table.cell(r, c).text = text
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def openpyxl_xlsx() -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Daños"
    for row in [("Matrícula", "Marca", "Año", "Importe"), ("1234ABC", "Seat", 2021, 1250.0),
                ("5678DEF", "Peugeot", 2019, 830.5)]:
        ws.append(row)
    ws["E1"], ws["E2"] = "Total", "=SUM(D2:D3)"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def odfpy(kind: str, mimetype: str | None = None) -> bytes:
    from odf.opendocument import (OpenDocumentDrawing, OpenDocumentPresentation,
                                  OpenDocumentSpreadsheet, OpenDocumentText)
    from odf.text import H, P
    if kind == "text":
        doc = OpenDocumentText()
        doc.text.addElement(H(outlinelevel=1, text="Informe del perito"))
        for line in INFORME.splitlines()[2:]:
            doc.text.addElement(P(text=line))
    elif kind == "spreadsheet":
        from odf.table import Table, TableCell, TableRow
        doc = OpenDocumentSpreadsheet()
        table = Table(name="Daños")
        for row in HOJA_CSV.splitlines():
            tr = TableRow()
            for value in row.split(";"):
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    else:
        from odf.draw import Frame, Page, Rect, TextBox
        from odf.style import MasterPage, PageLayout, PageLayoutProperties
        doc = OpenDocumentPresentation() if kind == "presentation" else OpenDocumentDrawing()
        layout = PageLayout(name="PL1")
        layout.addElement(PageLayoutProperties(pagewidth="28cm", pageheight="21cm", printorientation="landscape"))
        doc.automaticstyles.addElement(layout)
        master = MasterPage(name="Estandar", pagelayoutname=layout)
        doc.masterstyles.addElement(master)
        page = Page(masterpagename=master, name="pagina1")
        if kind == "presentation":
            doc.presentation.addElement(page)
            frame = Frame(width="20cm", height="3cm", x="2cm", y="2cm")
            box = TextBox()
            box.addElement(P(text="Resumen del siniestro"))
            frame.addElement(box)
            page.addElement(frame)
        else:
            doc.drawing.addElement(page)
            page.addElement(Rect(width="6cm", height="3cm", x="2cm", y="2cm"))
    if mimetype:
        doc.mimetype = mimetype
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlwt_xls() -> bytes:
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Daños")
    for r, row in enumerate([("Matrícula", "Marca", "Año", "Importe"), ("1234ABC", "Seat", 2021, 1250.0),
                             ("5678DEF", "Peugeot", 2019, 830.5)]):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    ws.write(0, 4, "Total")
    ws.write(1, 4, xlwt.Formula("SUM(D2:D3)"))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pillow_image(fmt: str, size=(48, 32), **options) -> bytes:
    from PIL import Image, ImageDraw
    image = Image.new("RGB", size, (240, 240, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle([4, 4, size[0] // 2, size[1] - 5], fill=(200, 40, 40))
    draw.ellipse([size[0] // 2, 6, size[0] - 4, size[1] - 6], fill=(30, 90, 200))
    if fmt == "GIF":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def fpdf2_pdf() -> bytes:
    from fpdf import FPDF
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in INFORME.splitlines():
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def build(out: Path, libreoffice: bool) -> Corpus:
    for folder in ("accept", "reject"):
        shutil.rmtree(out / folder, ignore_errors=True)
        (out / folder).mkdir(parents=True)
    corpus = Corpus(out)
    work = Path(tempfile.mkdtemp(prefix="attachment-corpus-"))
    try:
        build_into(corpus, work, LibreOffice(work, libreoffice))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return corpus


def build_into(c: Corpus, work: Path, lo: LibreOffice) -> None:
    crafted = f"crafted by {script_tool()}"
    informe_txt = work / "informe.txt"
    informe_txt.write_text(INFORME, encoding="utf-8")
    hoja_csv = work / "hoja.csv"
    hoja_csv.write_text(HOJA_CSV, encoding="utf-8")
    txt_filter, csv_filter = "Text (encoded):UTF8,LF,,,", "CSV:59,34,76,1"
    lo_how = lambda src: f"{tool('LibreOffice')}, `soffice --headless --convert-to` from {src}"  # noqa: E731

    # ---- accept: office documents made by real tools ----------------------
    docx_bytes = python_docx(INFORME.splitlines()[2:])
    c.accept("python-docx.docx", docx_bytes, "docx", "DOCX, heading + paragraphs + table",
             tool("python-docx"))
    xlsx_bytes = openpyxl_xlsx()
    c.accept("openpyxl.xlsx", xlsx_bytes, "xlsx",
             "XLSX, one sheet with a formula; `[Content_Types].xml` is the *last* entry", tool("openpyxl"))
    odt_bytes = odfpy("text")
    c.accept("odfpy.odt", odt_bytes, "odt", "ODT, stored `mimetype` first", tool("odfpy"))
    ods_bytes = odfpy("spreadsheet")
    c.accept("odfpy.ods", ods_bytes, "ods", "ODS, stored `mimetype` first", tool("odfpy"))
    xls_bytes = xlwt_xls()
    c.accept("xlwt.xls", xls_bytes, "xls",
             "BIFF8 compound file with a `Workbook` stream; its root CLSID is all zeros (no Excel CLSID)",
             tool("xlwt"))

    doc_bytes = lo.convert(informe_txt, "doc", txt_filter)
    if doc_bytes is not None:
        c.accept("libreoffice.doc", doc_bytes, "doc",
                 "Word 97 compound file (`WordDocument`, `1Table`; Word root CLSID)", lo_how("a UTF-8 .txt"))
        c.accept("libreoffice-root-clsid-cleared.doc", clear_root_clsid(doc_bytes), "doc",
                 "accept/libreoffice.doc with the root entry's CLSID zeroed (16 bytes): still a compound "
                 "file with a `WordDocument` stream, which is what §6 asks for",
                 f"{tool('LibreOffice')} + byte patch by {script_tool()}")
        c.accept("libreoffice.docx", lo.convert(informe_txt, "docx", txt_filter), "docx",
                 "DOCX as LibreOffice orders it (`_rels/.rels` first, `[Content_Types].xml` last)",
                 lo_how("a UTF-8 .txt"))
        c.accept("libreoffice.odt", lo.convert(informe_txt, "odt", txt_filter), "odt",
                 "ODT with thumbnail, stored `mimetype` first", lo_how("a UTF-8 .txt"))
        c.accept("libreoffice.rtf", lo.convert(informe_txt, "rtf", txt_filter), "rtf", "RTF",
                 lo_how("a UTF-8 .txt"))
        c.accept("libreoffice.pdf", lo.convert(informe_txt, "pdf", txt_filter), "pdf",
                 "PDF with an embedded font subset", lo_how("a UTF-8 .txt"))
        c.accept("libreoffice.xlsx", lo.convert(hoja_csv, "xlsx", csv_filter), "xlsx", "XLSX",
                 lo_how("a `;` CSV"))
        c.accept("libreoffice.xls", lo.convert(hoja_csv, "xls", csv_filter), "xls",
                 "BIFF8 compound file, `Workbook` stream, Excel root CLSID", lo_how("a `;` CSV"))
        c.accept("libreoffice.ods", lo.convert(hoja_csv, "ods", csv_filter), "ods",
                 "ODS with thumbnail, stored `mimetype` first", lo_how("a `;` CSV"))

    c.accept("fpdf2.pdf", fpdf2_pdf(), "pdf", "PDF, core Helvetica font", tool("fpdf2"))
    c.accept("pillow.png", pillow_image("PNG"), "png", "PNG 48×32 RGB", tool("Pillow"))
    c.accept("pillow.jpg", pillow_image("JPEG", quality=85), "jpeg", "baseline JPEG 48×32", tool("Pillow"))
    tiff = pillow_image("TIFF", compression="tiff_lzw")
    c.accept("pillow-little-endian.tif", tiff, "tiff", "TIFF `II*\\0`, LZW", tool("Pillow"))
    if shutil.which("tiffcp"):
        src = work / "src.tif"
        src.write_bytes(tiff)
        for flag, name, what in [("-B", "tiffcp-big-endian.tif", "TIFF `MM\\0*` (big-endian)"),
                                 ("-8", "tiffcp-bigtiff.tif", "BigTIFF `II+\\0`")]:
            dst = work / name
            subprocess.run(["tiffcp", flag, str(src), str(dst)], check=True)
            c.accept(name, dst.read_bytes(), "tiff", what + ", from accept/pillow-little-endian.tif",
                     f"`tiffcp {flag}`, {tool('tiffcp')}")
    c.accept("handwritten.rtf",
             b"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\\f0\\fs22 "
             b"Informe: el veh\\'edculo presentaba da\\'f1os.\\par}\n",
             "rtf", "hand-written minimal RTF", crafted)

    # ---- accept: text ------------------------------------------------------
    texts = [
        ("spanish-utf8.txt", INFORME.encode("utf-8"), "text", "UTF-8 text with Spanish accents and ñ"),
        ("starts-with-BM.csv", "BMW;Serie 3;2024\nSEAT;León;2023\n".encode("utf-8"), "text",
         "CSV whose first bytes `BM` are the BMP signature (2 bytes)"),
        ("starts-with-MZ.csv", "MZ;Mazda;2024\nKIA;Ceed;2022\n".encode("utf-8"), "text",
         "CSV whose first bytes `MZ` are the DOS/PE signature (2 bytes)"),
        ("starts-with-GIF87a.txt", "GIF87a es un formato de imagen de 1987.\n".encode("utf-8"), "text",
         "text starting with the 6-byte GIF signature `GIF87a`"),
        ("starts-with-ID3.txt", "ID3 es la etiqueta de metadatos de los MP3.\n".encode("utf-8"), "text",
         "text starting with the 3-byte MP3 tag signature `ID3`"),
        ("factura.xml", ('<?xml version="1.0" encoding="UTF-8"?>\n<factura numero="2024-001">\n'
                         '  <cliente>José Núñez</cliente>\n  <importe moneda="EUR">1250.00</importe>\n'
                         '</factura>\n').encode("utf-8"), "xml", "XML invoice with a declaration"),
        ("root-pedido.xml", '<Pedido id="7"><linea>Paragolpes</linea></Pedido>\n'.encode("utf-8"), "xml",
         "XML without declaration whose root `<Pedido` begins like the HTML pattern `<P` (not followed "
         "by space or `>`)"),
        ("utf8-bom.txt", "\ufeffTexto con marca de orden de bytes (BOM) al principio.\n".encode("utf-8"),
         "text", "UTF-8 text with a BOM"),
        ("single-newline.txt", b"\n", "text", "one line feed: looks empty, is not (1 byte)"),
        ("whitespace-only.txt", b" \t \r\n", "text", "only spaces, a tab and CRLF (5 bytes)"),
    ]
    for name, data, kind, what in texts:
        c.accept(name, data, kind, what, crafted)

    # ---- reject: ZIP family ------------------------------------------------
    c.reject("zip-first-entry-word-payload.docx", make_zip([("word/payload.exe", windows_pe())]),
             "ZIP whose only (first) entry is `word/payload.exe`, no `[Content_Types].xml`", crafted,
             "not an OOXML package: no `[Content_Types].xml` naming a main part; `word/` at offset 30 "
             "is not enough")
    c.reject("odf-mimetype-then-exe.odt",
             make_zip([("mimetype", MEDIA["odt"].encode(), zipfile.ZIP_STORED), ("setup.exe", windows_pe())]),
             "ZIP: stored `mimetype` = `application/vnd.oasis.opendocument.text`, then only `setup.exe`",
             crafted, "no `content.xml` and no `META-INF/manifest.xml`: the right first bytes, not an ODT")
    odt = zip_entries(odt_bytes)
    c.reject("odt-mimetype-deflated.odt",
             make_zip([(n, d, zipfile.ZIP_DEFLATED) for n, d, _ in odt]),
             "accept/odfpy.odt re-zipped with the `mimetype` entry DEFLATED", crafted,
             "ODF requires `mimetype` first and stored (uncompressed); decided: reject")
    c.reject("odt-without-manifest.odt", make_zip([e for e in odt if e[0] != "META-INF/manifest.xml"]),
             "accept/odfpy.odt without `META-INF/manifest.xml`", crafted, "§6: an ODT holds `META-INF/manifest.xml`")
    c.reject("odt-without-content.odt", make_zip([e for e in odt if e[0] != "content.xml"]),
             "accept/odfpy.odt without `content.xml`", crafted, "§6: an ODT holds `content.xml`")

    # A slimmer python-docx package for the derived hostile files (drops the
    # optional stylesWithEffects part and the thumbnail: ~20 KB instead of ~36 KB).
    slim = drop_parts(zip_entries(docx_bytes), {"word/stylesWithEffects.xml", "docProps/thumbnail.jpeg"})
    derived = (f"{tool('python-docx')} output without `word/stylesWithEffects.xml` and the thumbnail, "
               f"edited by {script_tool()}")
    c.reject("docx-without-content-types.docx", make_zip([e for e in slim if e[0] != "[Content_Types].xml"]),
             "python-docx DOCX without `[Content_Types].xml`", derived,
             "§6: a DOCX is a ZIP whose `[Content_Types].xml` names its main part")
    c.reject("docx-main-part-missing.docx", make_zip([e for e in slim if e[0] != "word/document.xml"]),
             "python-docx DOCX whose `[Content_Types].xml` names `/word/document.xml` (wordprocessingml main) "
             "but the ZIP has no `word/document.xml` (other `word/` parts remain)", derived,
             "the main part named by `[Content_Types].xml` is not in the package")
    docm = add_macro_project(set_content_type(slim, DOCX_MAIN, DOCM_MAIN),
                             "word/_rels/document.xml.rels", "word/vbaProject.bin")
    c.reject("macro-enabled.docm", make_zip(docm),
             f"DOCM: main part typed `{DOCM_MAIN}`, plus `word/vbaProject.bin` (a crafted compound file) "
             "with its relationship and `bin` Default type", derived, "macro-enabled (§6)")
    xlsm = add_macro_project(set_content_type(zip_entries(xlsx_bytes), XLSX_MAIN, XLSM_MAIN),
                             "xl/_rels/workbook.xml.rels", "xl/vbaProject.bin")
    c.reject("macro-enabled.xlsm", make_zip(xlsm),
             f"XLSM: accept/openpyxl.xlsx with the workbook typed `{XLSM_MAIN}` plus `xl/vbaProject.bin`",
             f"{tool('openpyxl')}, edited by {script_tool()}", "macro-enabled (§6)")
    c.reject("template.dotx", make_zip(set_content_type(slim, DOCX_MAIN, DOTX_MAIN)),
             f"DOTX: python-docx DOCX with the main part typed `{DOTX_MAIN}`", derived,
             "a Word template is not a DOCX (different main content type); decided: reject")

    if shutil.which("zip"):
        folder = work / "slim"
        names = []
        for name, data, _ in slim:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            names.append(name)
        subprocess.run(["zip", "-q", "-X", "-P", "x", "-nw", str(work / "enc.docx"), "--", *names],
                       cwd=folder, check=True)
        c.reject("zip-encrypted.docx", (work / "enc.docx").read_bytes(),
                 "python-docx DOCX whose entries are ZipCrypto-encrypted (password `x`); entry names, "
                 "`[Content_Types].xml` first, stay readable in the local headers",
                 f"{derived}; re-zipped with `zip -P x -nw`, {tool('zip')}", "encrypted (§6)")
        subprocess.run(["zip", "-q", "-X", "-P", "x", str(work / "enc.zip"), "informe.txt"],
                       cwd=work, check=True)
        c.reject("zip-encrypted.zip", (work / "enc.zip").read_bytes(),
                 "ZIP with one ZipCrypto-encrypted text entry (password `x`)", f"`zip -P x`, {tool('zip')}",
                 "an encrypted plain ZIP: neither OOXML nor ODF")
        subprocess.run(["zip", "-q", "-X", str(work / "plain.zip"), "informe.txt", "hoja.csv"],
                       cwd=work, check=True)
        c.reject("plain.zip", (work / "plain.zip").read_bytes(), "plain ZIP of a .txt and a .csv",
                 f"`zip`, {tool('zip')}", "other ZIP file")

    import pyzipper
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as z:
        z.setpassword(b"x")
        z.writestr("informe.txt", INFORME.encode("utf-8"))
    c.reject("zip-aes256.zip", buf.getvalue(), "ZIP with one WinZip-AES-256 encrypted entry (password `x`)",
             tool("pyzipper"), "encrypted ZIP")

    import msoffcrypto
    buf = io.BytesIO()
    msoffcrypto.OfficeFile(io.BytesIO(make_zip(slim))).encrypt("x", buf)
    c.reject("office-password-protected.docx", buf.getvalue(),
             "python-docx DOCX encrypted as Office does it (ECMA-376 agile encryption, password `x`): a "
             "compound file with `EncryptionInfo` and `EncryptedPackage`, no `WordDocument`",
             f"{derived}; {tool('msoffcrypto-tool')}", "encrypted; a compound file without a Word or Excel stream")

    import pptx
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Resumen del siniestro"
    slide.placeholders[1].text = "Daños en la puerta trasera"
    buf = io.BytesIO()
    presentation.save(buf)
    c.reject("python-pptx.pptx", buf.getvalue(), "PPTX, one slide", tool("python-pptx"),
             "presentation (PPTX) is not accepted")

    from ebooklib import epub
    book = epub.EpubBook()
    book.set_identifier("casia-corpus-epub")
    book.set_title("Informe")
    book.set_language("es")
    chapter = epub.EpubHtml(title="Informe", file_name="informe.xhtml", lang="es")
    chapter.content = "<h1>Informe</h1><p>Daños en la puerta trasera.</p>"
    book.add_item(chapter)
    book.toc, book.spine = [chapter], ["nav", chapter]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    path = work / "libro.epub"
    epub.write_epub(str(path), book)
    c.reject("ebooklib.epub", path.read_bytes(),
             "EPUB 3: stored `mimetype` = `application/epub+zip` first, `META-INF/container.xml`",
             tool("EbookLib"), "EPUB is not accepted")

    jar_how = crafted
    if shutil.which("fastjar"):
        classes = work / "jar"
        classes.mkdir()
        (classes / "Hola.class").write_bytes(java_class())
        subprocess.run(["fastjar", "cf", str(work / "hola.jar"), "Hola.class"], cwd=classes, check=True)
        jar = (work / "hola.jar").read_bytes()
        jar_how = f"`fastjar cf`, {tool('fastjar')}, around a hand-assembled `Hola.class`"
    else:
        jar = make_zip([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"), ("Hola.class", java_class())])
    c.reject("hola.jar", jar, "JAR: `META-INF/MANIFEST.MF` + `Hola.class` (valid Java 8 class file)",
             jar_how, "Java archive (executable code)")
    c.reject("android-like.apk", apk_like(),
             "APK-shaped ZIP: `AndroidManifest.xml` (binary XML header), `classes.dex`, `resources.arsc`, "
             "`META-INF/MANIFEST.MF`", crafted, "Android package (executable code)")

    c.reject("odfpy.odp", odfpy("presentation"), "ODP, stored `mimetype` = `…opendocument.presentation`",
             tool("odfpy"), "presentation: not ODT/ODS")
    c.reject("odfpy.odg", odfpy("graphics"), "ODG, stored `mimetype` = `…opendocument.graphics`",
             tool("odfpy"), "drawing: not ODT/ODS")
    c.reject("odfpy-spreadsheet-template.ods",
             odfpy("spreadsheet", "application/vnd.oasis.opendocument.spreadsheet-template"),
             "ODS content whose stored `mimetype` (and manifest) say `…opendocument.spreadsheet-template`",
             tool("odfpy") + " (`doc.mimetype` set)",
             "a template; the mimetype only *starts with* the ODS one — an exact match is required")

    # ---- reject: compound files -------------------------------------------
    if lo.enabled:
        odp = work / "resumen.odp"
        odp.write_bytes(odfpy("presentation"))
        ppt = lo.convert(odp, "ppt")
        c.reject("libreoffice.ppt", repack_cfb(ppt, {"\x05SummaryInformation"}),
                 "PowerPoint 97 compound file (`PowerPoint Document`, `Current User`, PowerPoint root CLSID); "
                 "LibreOffice's 590 KB `\\x05SummaryInformation` stream (a preview bitmap) was dropped and the "
                 "other streams re-packed unchanged",
                 f"{lo_how('an odfpy ODP')}; re-packed by `cfb_file` in {script_tool()}",
                 "PowerPoint: a compound file without a Word or Excel stream")
        c.reject("libreoffice.pptx", lo.convert(odp, "pptx"), "PPTX as LibreOffice writes it",
                 lo_how("an odfpy ODP"), "presentation (PPTX) is not accepted")
        c.reject("libreoffice-template.ott", lo.convert(informe_txt, "ott", txt_filter),
                 "ODF text template: stored `mimetype` = `…opendocument.text-template`", lo_how("a UTF-8 .txt"),
                 "a template; the mimetype only *starts with* the ODT one")
        c.reject("libreoffice-template.ots", lo.convert(hoja_csv, "ots", csv_filter),
                 "ODF spreadsheet template: stored `mimetype` = `…opendocument.spreadsheet-template`",
                 lo_how("a `;` CSV"), "a template; the mimetype only *starts with* the ODS one")
        c.reject("libreoffice.epub", lo.convert(informe_txt, "epub", txt_filter), "EPUB 3",
                 lo_how("a UTF-8 .txt"), "EPUB is not accepted")
        c.reject("libreoffice.html", lo.convert(informe_txt, "html", txt_filter),
                 "HTML export (`<!DOCTYPE html>`)", lo_how("a UTF-8 .txt"),
                 "HTML (`<!DOCTYPE HTML` pattern)")
        c.reject("libreoffice.xhtml", lo.convert(informe_txt, "xhtml:XHTML Writer File:UTF8", txt_filter),
                 "XHTML export (filter `XHTML Writer File`): XML declaration, DOCTYPE, root `html` in the XHTML namespace",
                 lo_how("a UTF-8 .txt"), "XML whose root is `html` (XHTML namespace)")
        odg = work / "dibujo.odg"
        odg.write_bytes(odfpy("graphics"))
        c.reject("libreoffice.svg", lo.convert(odg, "svg"),
                 "SVG export: XML declaration, DOCTYPE, root `svg`", lo_how("an odfpy ODG"),
                 "XML whose root is `svg`")

    if shutil.which("wixl"):
        (work / "leame.txt").write_text("Léame\n", encoding="utf-8")
        (work / "prueba.wxs").write_text(WXS, encoding="utf-8")
        subprocess.run(["wixl", "-o", str(work / "prueba.msi"), str(work / "prueba.wxs")], cwd=work, check=True)
        c.reject("wixl.msi", (work / "prueba.msi").read_bytes(),
                 "Windows Installer package, one file in an embedded cabinet", f"`wixl`, {tool('wixl')}",
                 "MSI (installer): a compound file without a Word or Excel stream")
    c.reject("outlook-like.msg", outlook_msg(),
             "Outlook message laid out per MS-OXMSG: `__properties_version1.0`, `__substg1.0_…001F` "
             "strings, `__nameid_version1.0` storage, root CLSID 00020D0B-…", crafted + " (`cfb_file`)",
             "Outlook message: a compound file without a Word or Excel stream")
    c.reject("compound-file-without-office-stream.doc",
             cfb_file({"\x05SummaryInformation": summary_information(), "Contents": b"Informe\r\n" * 8}),
             "compound file with only `\\x05SummaryInformation` and `Contents` streams, no CLSID",
             crafted + " (`cfb_file`)", "neither `WordDocument` nor `Workbook`/`Book`")
    c.reject("compound-file-word-clsid-no-worddocument.doc",
             cfb_file({"1Table": b"\0" * 512, "\x05SummaryInformation": summary_information()},
                      root_clsid=CLSID_WORD),
             "compound file whose root CLSID is Word's (00020906-…) but with no `WordDocument` stream",
             crafted + " (`cfb_file`)", "the CLSID claims Word, the streams do not: no Word stream")
    c.reject("compound-file-excel-clsid-no-workbook.xls",
             cfb_file({"\x05SummaryInformation": summary_information(), "Ole10Native": b"MZ" + b"\0" * 62},
                      root_clsid=CLSID_EXCEL),
             "compound file whose root CLSID is Excel's (00020820-…) but with no `Workbook`/`Book` stream",
             crafted + " (`cfb_file`)", "the CLSID claims Excel, the streams do not: no Excel stream")

    # ---- reject: HTML and SVG ---------------------------------------------
    html = [
        ("html-behind-comment.txt", "<!-- informe -->\n<html><body><script>alert(1)</script></body></html>\n",
         "HTML preceded by a comment", "`<!--` pattern"),
        ("html-after-zero-width-space.txt", "\u200b<html><body>hola</body></html>\n",
         "U+200B ZERO WIDTH SPACE then `<html>`", "`<HTML` pattern after a zero-width character"),
        ("script-after-bom-and-spaces.txt", "\ufeff   <script>alert(1)</script>\n",
         "UTF-8 BOM, three spaces, `<script>`", "`<SCRIPT` pattern after BOM and white space"),
        ("doctype-html-lowercase.html", "<!doctype html>\n<title>x</title><p>hola</p>\n",
         "`<!doctype html>` in lower case", "`<!DOCTYPE HTML` pattern, any case"),
        ("p-hola.txt", "<p>hola</p>\n", "`<p>hola</p>`", "`<P` pattern followed by `>`"),
        ("a-href.txt", "<a href=x>pulse aquí</a>\n", "`<a href=x>`", "`<A` pattern followed by a space"),
        ("xml-leading-comment.xml", '<!-- generado por el ERP -->\n<factura numero="7"/>\n',
         "harmless XML that starts with a comment (no declaration)",
         "`<!--` + space is a WHATWG HTML pattern: §6 refuses it even though the root is `factura`"),
    ]
    for tag in ["<HTML>", "<head>", "<iframe src=x>", "<h1>", "<div>", "<font color=red>", "<table>",
                "<style>", "<title>", "<b>", "<BODY>", "<br>"]:
        word = tag.strip("<>").split()[0].lower()
        html.append((f"whatwg-{word}.txt", f"{tag}hola\n", f"starts with `{tag}`",
                     f"`<{word.upper()}` pattern"))
    for name, text, what, why in html:
        c.reject(name, text.encode("utf-8"), what, crafted, "HTML: " + why)

    svg_body = '<rect width="10" height="10" fill="red"/><script>alert(1)</script>'
    svg = [
        ("svg-with-declaration.svg",
         f'<?xml version="1.0"?>\n<svg xmlns="{SVG_NS}" width="10" height="10">{svg_body}</svg>\n',
         "SVG with an XML declaration", "XML root `svg`"),
        ("svg-bare.svg", f'<svg xmlns="{SVG_NS}">{svg_body}</svg>\n', "SVG without declaration",
         "XML root `svg` (`<svg` is no WHATWG pattern, the root rule catches it)"),
        ("svg-comment-first.svg", f'<!-- c --><svg xmlns="{SVG_NS}">{svg_body}</svg>\n',
         "SVG without declaration, leading comment", "`<!--` pattern (and root `svg`)"),
        ("svg-doctype-and-comment.svg",
         '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
         '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [ <!ENTITY e "x"> ]>\n<!-- dibujo -->\n'
         f'<svg xmlns="{SVG_NS}">{svg_body}</svg>\n',
         "XML declaration, DOCTYPE with internal subset, comment, then `<svg>`", "XML root `svg`"),
        ("svg-prefixed-root.xml", f'<?xml version="1.0"?>\n<s:svg xmlns:s="{SVG_NS}"><s:rect width="1" '
         'height="1"/></s:svg>\n', "root `<s:svg xmlns:s=…svg>`", "XML root `svg` (prefixed)"),
        ("svg-namespace-other-root.xml", f'<?xml version="1.0"?>\n<g xmlns="{SVG_NS}"><rect width="1" '
         'height="1"/></g>\n', "root `<g>` in the SVG namespace", "XML root in the SVG namespace"),
        ("xhtml-root.xml", f'<?xml version="1.0"?><html xmlns="{XHTML_NS}"><body><script>alert(1)</script>'
         '</body></html>\n', "XML declaration then `<html xmlns=…xhtml>`", "XML root `html` (XHTML)"),
        ("xhtml-prefixed-root.xml", f'<?xml version="1.0"?>\n<x:html xmlns:x="{XHTML_NS}"><x:body/></x:html>\n',
         "root `<x:html xmlns:x=…xhtml>`", "XML root `html` in the XHTML namespace"),
    ]
    for name, text, what, why in svg:
        c.reject(name, text.encode("utf-8"), what, crafted, "SVG/XHTML: " + why)

    # ---- reject: other binary formats and bad text -------------------------
    c.reject("windows-pe.exe", windows_pe(), "minimal PE32+ x64 console image (1 KiB, `MZ` … `PE\\0\\0`)",
             crafted, "executable; not valid text either (NUL bytes)")
    c.reject("linux-elf", elf_executable(), "129-byte static x86-64 ELF calling exit(0)", crafted,
             "executable; not valid text (NUL bytes)")
    c.reject("pillow.bmp", pillow_image("BMP"), "BMP 48×32", tool("Pillow"),
             "BMP is not accepted (`BM` + NUL bytes: not text)")
    c.reject("pillow.gif", pillow_image("GIF"), "GIF89a 48×32, 8 colours", tool("Pillow"),
             "GIF is not accepted (NUL bytes: not text)")
    c.reject("pillow.webp", pillow_image("WEBP", quality=80), "lossy WebP 48×32", tool("Pillow"),
             "WebP is not accepted")
    c.reject("id3-mp3-like.mp3", mp3_like(), "ID3v2.3 tag + three silent MPEG-1 Layer III frames", crafted,
             "audio; NUL bytes, not text")
    if shutil.which("lame"):
        import wave
        with wave.open(str(work / "silencio.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes(b"\0\0" * 4410)
        subprocess.run(["lame", "--quiet", "-b", "32", "--add-id3v2", "--tt", "Declaración",
                        str(work / "silencio.wav"), str(work / "silencio.mp3")], check=True)
        c.reject("lame.mp3", (work / "silencio.mp3").read_bytes(), "0.2 s of silence, ID3v2 tag, 32 kbit/s",
                 f"`lame -b 32 --add-id3v2`, {tool('lame')}", "audio is not accepted")
    c.reject("text-with-nul.txt", b"Informe del perito\0 con un byte NUL\n", "ASCII text with one NUL byte",
             crafted, "§6: text has no NUL byte")
    c.reject("latin1.txt", "España: daños en el vehículo\n".encode("latin-1"),
             "ISO-8859-1 text (`Espa\\xf1a`)", crafted, "not valid UTF-8")
    c.reject("utf16le-bom.txt", "Informe: daños\r\n".encode("utf-16"),
             "UTF-16LE text with BOM (what Windows Notepad calls \"Unicode\")", crafted,
             "not UTF-8 (and NUL bytes)")


WXS = """<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="12345678-1234-1234-1234-123456789011" Name="Prueba CASIA" Language="1033" Version="1.0.0"
           Manufacturer="Prueba" UpgradeCode="12345678-1234-1234-1234-123456789012">
    <Package InstallerVersion="200" Compressed="yes" Comments="Paquete de prueba"/>
    <Media Id="1" Cabinet="prueba.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="Prueba">
          <Component Id="C1" Guid="12345678-1234-1234-1234-123456789013">
            <File Id="F1" Source="leame.txt" KeyPath="yes"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="C1"/></Feature>
  </Product>
</Wix>
"""


# --------------------------------------------------------------------------- #
# The benchmark input

def bench_docx(target: int = BENCH_TARGET) -> bytes:
    """A python-docx document with one PNG of random noise (seeded), sized so
    that the whole DOCX is within 1 % of `target` bytes."""
    import docx
    from docx.shared import Cm
    from PIL import Image

    def make(height: int) -> bytes:
        rng = random.Random(20240506)
        width = 600
        image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        png = io.BytesIO()
        image.save(png, "PNG")
        png.seek(0)
        document = docx.Document()
        document.add_heading("Informe con fotografía", level=1)
        document.add_paragraph(INFORME)
        document.add_picture(png, width=Cm(15))
        document.add_paragraph("Fotografía: ruido aleatorio (incompresible), para el banco de pruebas.")
        buf = io.BytesIO()
        document.save(buf)
        return buf.getvalue()

    height = 560
    for _ in range(4):
        data = make(height)
        if abs(len(data) - target) <= target // 100:
            return data
        height = max(1, round(height * (1 + (target - len(data)) / (600 * height * 3))))
    return data


# --------------------------------------------------------------------------- #
# README

README_HEAD = """# Attachment-format corpus (DOMAIN.md §6)

Small real and crafted files for the attachment-format detector
(`casia-core/src/attachment/format.rs`). Every file in `accept/` must be
accepted with the media type given below; every file in `reject/` must be
refused with reason `unsupported_format`. File names do not matter to the
detector (it decides by content); accept files are named `<what>.<ext>` with an
extension that fits their format.

The files are **committed**; `scripts/attachment-corpus.py` records how each
was made (provenance) and can rebuild an equivalent corpus with `--write`
(not byte-identical: ZIP timestamps, LibreOffice output and metadata vary).
`python3 scripts/attachment-corpus.py --check` re-judges the committed files
with an independent Python reading of §6 and this table. Every file is under
50 KiB.

Media types are those of `AttachmentFormat::media_type`: CSV and TXT are
`text/plain; charset=utf-8` (there is no separate CSV type), text whose first
non-white character is `<` is `application/xml`.

Notes on decisions:

- **Short signatures do not outvote text.** `starts-with-BM.csv`,
  `starts-with-MZ.csv`, `starts-with-GIF87a.txt` and `starts-with-ID3.txt`
  begin with the BMP (2 bytes), DOS/PE (2), GIF (6) and ID3 (3) signatures but
  are valid UTF-8 without NUL: §6 says a signature shorter than 8 bytes does not
  outvote valid text, so they are accepted. The real BMP, PE, GIF, MP3 in
  `reject/` contain NUL bytes, so they fail the text rule anyway.
- **`<!--` is an HTML pattern.** `reject/xml-leading-comment.xml` is harmless
  XML that begins with a comment; §6 (WHATWG §7.1 patterns, `<!--` followed by
  a space) refuses it. An XML file that puts its declaration first is fine.
- **Exact ODF mimetypes.** Templates (`…text-template`,
  `…spreadsheet-template`) only *start* with the ODT/ODS mimetype: refused.
  A `mimetype` entry that is deflated instead of stored is refused too.
- **Templates and macros.** `.dotx` (template main type) and `.docm`/`.xlsm`
  (macro-enabled main type + `vbaProject.bin`) are refused.
- **Compound files are judged by their streams**, as §6 says ("a compound file
  with a Word or Excel stream"), not by the root CLSID: `xlwt.xls` has no
  CLSID and `libreoffice-root-clsid-cleared.doc` had it zeroed, both are
  accepted; `compound-file-word-clsid-no-worddocument.doc` and
  `compound-file-excel-clsid-no-workbook.xls` carry the Word/Excel CLSID but no
  Word/Excel stream, both are refused.
- Empty content is reason `empty`, not `unsupported_format`, so no empty file
  is here.
- Benchmark input `benches/data/one_mib.docx` (not in this folder): a real
  python-docx document (heading, text, one 600-pixel-wide PNG of seeded random
  RGB noise so that it does not compress) of about 1 MiB; made by
  `bench_docx` in the script with the python-docx and Pillow versions below.
"""


def write_readme(corpus: Corpus) -> None:
    lines = [README_HEAD, "Tools (versions that made the committed files):", ""]
    for name in sorted(_VERSIONS):
        lines.append(f"- {_VERSIONS[name]}")
    lines += ["", "| file | what it is | made with | verdict | media type / why refused |",
              "| --- | --- | --- | --- | --- |"]
    for path, what, how, verdict, detail in corpus.rows:
        cells = [f"`{path}`", what, how, verdict, detail]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    (corpus.out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- #
# Check

def check(out: Path) -> int:
    readme = (out / "README.md").read_text(encoding="utf-8")
    expected = {}
    for m in re.finditer(r"^\| `((?:accept|reject)/[^`]+)` \|.*\| (accept|reject[^|]*) \| (.*) \|$", readme, re.M):
        media = re.match(r"`([^`]+)`$", m.group(3)) if m.group(2) == "accept" else None
        expected[m.group(1)] = media.group(1) if media else None
    failures = 0
    files = sorted(p.relative_to(out).as_posix() for p in out.glob("*/*") if p.is_file())
    for rel in files:
        data = (out / rel).read_bytes()
        verdict = reference_verdict(data)
        folder = rel.split("/")[0]
        problems = []
        if rel not in expected:
            problems.append("not in README.md")
        if len(data) >= MAX_FILE:
            problems.append(f"{len(data)} bytes (limit {MAX_FILE})")
        if folder == "accept":
            kind = verdict.split(":", 1)[1] if verdict.startswith("accept:") else None
            if kind is None:
                problems.append(f"reference says {verdict}")
            elif MEDIA[kind] != expected.get(rel):
                problems.append(f"reference media {MEDIA[kind]}, README {expected.get(rel)}")
        elif not verdict.startswith("reject:") or verdict == "reject:empty":
            problems.append(f"reference says {verdict}")
        status = "FAIL " + "; ".join(problems) if problems else "ok"
        print(f"{status:6} {rel:58} {len(data):6}  {verdict}")
        failures += bool(problems)
    for rel in sorted(set(expected) - set(files)):
        print(f"FAIL   {rel}: in README.md but missing")
        failures += 1
    print(f"{len(files) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="re-judge the committed files (default)")
    mode.add_argument("--write", action="store_true", help="rebuild the corpus, README and bench file")
    parser.add_argument("--out", type=Path, default=CORPUS, help="corpus folder (default: %(default)s)")
    parser.add_argument("--bench", type=Path, default=BENCH, help="bench file (default: %(default)s)")
    parser.add_argument("--no-libreoffice", action="store_true", help="leave out LibreOffice-made files")
    args = parser.parse_args()
    if not args.write:
        return check(args.out)
    corpus = build(args.out, not args.no_libreoffice)
    for name in ("python-docx", "Pillow"):
        tool(name)
    write_readme(corpus)
    args.bench.parent.mkdir(parents=True, exist_ok=True)
    args.bench.write_bytes(bench_docx())
    print(f"wrote {len(corpus.rows)} files under {args.out}, and {args.bench} "
          f"({args.bench.stat().st_size} bytes)")
    return check(args.out)


if __name__ == "__main__":
    sys.exit(main())

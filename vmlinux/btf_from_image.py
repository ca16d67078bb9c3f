#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""btf_from_image.py VMLINUZ OUT: the kernel's BTF (.BTF, the raw blob of
/sys/kernel/btf/vmlinux) cut out of a kernel image, compressed (gzip, xz)
or not, for vmlinux/gen.sh."""
import sys, struct, zlib, lzma, gzip, io
data = open(sys.argv[1], 'rb').read()
def btf_from(blob):
    i = blob.find(b'\x9f\xeb\x01\x00\x18\x00\x00\x00')
    while i >= 0:
        hdr = struct.unpack_from('<HBBIIIII', blob, i)
        total = hdr[3] + hdr[6] + hdr[7]
        if hdr[6] > 1000000 and i + total <= len(blob):
            return blob[i:i + total]
        i = blob.find(b'\x9f\xeb\x01\x00\x18\x00\x00\x00', i + 1)
    return None
cands = [data]
for magic, fn in ((b'\x1f\x8b\x08', lambda b: gzip.GzipFile(fileobj=io.BytesIO(b)).read()),
                  (b'\xfd7zXZ\x00', lambda b: lzma.LZMADecompressor().decompress(b))):
    off = data.find(magic)
    while off >= 0 and len(cands) < 8:
        try:
            cands.append(fn(data[off:]))
            break
        except Exception:
            off = data.find(magic, off + 1)
for c in cands:
    b = btf_from(c)
    if b:
        open(sys.argv[2], 'wb').write(b)
        sys.exit(0)
sys.exit("gen.sh: no BTF found in " + sys.argv[1])

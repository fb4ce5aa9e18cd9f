#!/usr/bin/env python3
"""The verify-only peer of the benchmark report: libxmlsec1, in process through
Python's `xmlsec` binding, verifying the signed dossiers the gateway's criterion
benchmark verifies (exported by it), on one thread, so the rate is per core.

Each document is verified with the signer's certificate chain checked: the
chain carried in the signature's X509Data is built up to the development roots,
loaded as trusted certificates. (The binding has no way to load CRLs, so unlike
the gateway, libxmlsec1 does not check revocation here.)

Before timing, each document must verify and a tampered copy must fail, so the
figure is of real verifications. Prints one JSON object: name -> verifications
per second.

Usage: xmlsec_verify.py DOCS_DIR SECONDS
  DOCS_DIR holds <name>.xml files and roots.txt (one root certificate file per line).
"""

import glob
import json
import os
import sys
import time

import xmlsec
from lxml import etree


def manager_of(roots):
    manager = xmlsec.KeysManager()
    for path in roots:
        manager.load_cert(path, xmlsec.constants.KeyDataFormatCertPem, xmlsec.constants.KeyDataTypeTrusted)
    return manager


def verify(data, manager):
    root = etree.fromstring(data)
    xmlsec.tree.add_ids(root, ["Id"])
    node = xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature)
    if node is None:
        raise ValueError("no Signature element")
    ctx = xmlsec.SignatureContext(manager)
    ctx.verify(node)


def main():
    docs_dir, seconds = sys.argv[1], float(sys.argv[2])
    with open(os.path.join(docs_dir, "roots.txt"), encoding="utf-8") as f:
        roots = [line.strip() for line in f if line.strip()]
    manager = manager_of(roots)
    results = {}
    for path in sorted(glob.glob(os.path.join(docs_dir, "*.xml"))):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path, "rb") as f:
            data = f.read()
        verify(data, manager)
        tampered = data.replace(b"<MaTTHC>", b"<MaTTHC>9", 1)
        try:
            verify(tampered, manager)
        except xmlsec.Error:
            pass
        else:
            raise SystemExit(f"{name}: a tampered document verified")
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            verify(data, manager)
            count += 1
        results[name] = count / (time.perf_counter() - start)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

"""Canonicalises with libxml2 through lxml, as the cross-check of the Rust canonicaliser.

usage: lxml_c14n.py FILE XPATH|- EXCLUSIVE(0|1) COMMENTS(0|1) [PREFIX ...]

With XPATH "-" the whole document is canonicalised; otherwise the first element the
XPath selects. lxml canonicalises an element as a detached subtree, which keeps its
in-scope namespaces but not the xml:* attributes that Canonical XML 1.0 makes it
inherit from its ancestors; for inclusive canonicalisation they are copied onto the
element first (nearest ancestor first), which is exactly the rule of C14N 1.0 §2.4.
"""
import sys

from lxml import etree

XML_NS = "{http://www.w3.org/XML/1998/namespace}"

path, xpath, exclusive, comments = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
prefixes = [p for p in sys.argv[5:] if p] or None
tree = etree.parse(path, etree.XMLParser(remove_blank_text=False, resolve_entities=False))
if xpath == "-":
    target = tree
else:
    target = tree.xpath(xpath)[0]
    if not exclusive:
        for ancestor in target.iterancestors():
            for key, value in ancestor.attrib.items():
                if key.startswith(XML_NS) and key not in target.attrib:
                    target.set(key, value)
out = etree.tostring(target, method="c14n", exclusive=exclusive, with_comments=comments, inclusive_ns_prefixes=prefixes)
sys.stdout.buffer.write(out)

//! Hand-built DER names (and certificates carrying them) for tests.

/// A DER TLV.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A DER OBJECT IDENTIFIER.
pub(crate) fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("an arc")).collect();
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut bytes = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            bytes.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        bytes.reverse();
        body.extend(bytes);
    };
    push(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push(*a);
    }
    tlv(0x06, &body)
}

/// UTF8String.
pub(crate) const UTF8: u8 = 0x0c;
/// PrintableString.
pub(crate) const PRINTABLE: u8 = 0x13;
/// BMPString.
pub(crate) const BMP: u8 = 0x1e;

/// A DER Name from RDNs in DER order (least specific first), each a list of
/// (dotted OID, value tag, value bytes).
pub(crate) fn name(rdns: &[&[(&str, u8, &[u8])]]) -> Vec<u8> {
    let mut seq = Vec::new();
    for rdn in rdns {
        let mut set = Vec::new();
        for (o, tag, value) in *rdn {
            let mut atv = oid(o);
            atv.extend(tlv(*tag, value));
            set.extend(tlv(0x30, &atv));
        }
        seq.extend(tlv(0x31, &set));
    }
    tlv(0x30, &seq)
}

/// A (v1, unsigned in effect) certificate with this DER subject and a P-256 key.
pub(crate) fn certificate(subject: &[u8]) -> Vec<u8> {
    let sig_alg = tlv(0x30, &oid("1.2.840.10045.4.3.2"));
    let mut tbs = tlv(0x02, &[0x01]);
    tbs.extend(&sig_alg);
    tbs.extend(name(&[&[("2.5.4.3", UTF8, b"test issuer")]]));
    let mut validity = tlv(0x17, b"250101000000Z");
    validity.extend(tlv(0x17, b"350101000000Z"));
    tbs.extend(tlv(0x30, &validity));
    tbs.extend_from_slice(subject);
    let mut alg = oid("1.2.840.10045.2.1");
    alg.extend(oid("1.2.840.10045.3.1.7"));
    let mut spki = tlv(0x30, &alg);
    let mut point = vec![0x00, 0x04];
    point.extend([0x11; 64]);
    spki.extend(tlv(0x03, &point));
    tbs.extend(tlv(0x30, &spki));
    let mut cert = tlv(0x30, &tbs);
    cert.extend(&sig_alg);
    cert.extend(tlv(0x03, &[0x00, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
    tlv(0x30, &cert)
}

//! Frame encoding: minimal lengths (RFC 6455 §5.2), masking (§5.3), and round trips through
//! the decoder.

mod common;

use common::XorShift;
use daloy_ws_native::encoder::{check_payload, encode_frame, encode_header};
use daloy_ws_native::error::ErrorKind;
use daloy_ws_native::header::{parse_frame, DecodeOptions};

#[test]
fn encodes_the_rfc_examples() {
    assert_eq!(
        encode_frame(true, 0x1, b"Hello", None).unwrap(),
        [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
    assert_eq!(
        encode_frame(true, 0x1, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d])).unwrap(),
        [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    assert_eq!(
        encode_frame(false, 0x1, b"Hel", None).unwrap(),
        [0x01, 0x03, 0x48, 0x65, 0x6c]
    );
    assert_eq!(
        encode_frame(true, 0x0, b"lo", None).unwrap(),
        [0x80, 0x02, 0x6c, 0x6f]
    );
    assert_eq!(
        encode_frame(true, 0x9, b"Hello", None).unwrap(),
        [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
    assert_eq!(
        encode_frame(true, 0xa, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d])).unwrap(),
        [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    let frame = encode_frame(true, 0x2, &[0; 256], None).unwrap();
    assert_eq!(&frame[..4], [0x82, 0x7e, 0x01, 0x00]);
    let frame = encode_frame(true, 0x2, &[0; 65536], None).unwrap();
    assert_eq!(&frame[..10], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(frame.len(), 65546);
}

#[test]
fn uses_the_shortest_length_encoding() {
    let mut head = [0u8; 14];
    for (len, header_len, marker) in [
        (0u64, 2, 0),
        (125, 2, 125),
        (126, 4, 126),
        (65535, 4, 126),
        (65536, 10, 127),
        (1 << 40, 10, 127),
    ] {
        assert_eq!(
            encode_header(&mut head, true, 2, len, None),
            header_len,
            "length {len}"
        );
        assert_eq!(
            head[1] & 0x7f,
            if marker == 0 { len as u8 } else { marker },
            "length {len}"
        );
        assert_eq!(
            encode_header(&mut head, true, 2, len, Some([1, 2, 3, 4])),
            header_len + 4
        );
        assert_eq!(&head[header_len..header_len + 4], [1, 2, 3, 4]);
        assert_eq!(head[1] & 0x80, 0x80);
    }
}

#[test]
fn writes_fin_and_only_the_low_opcode_bits() {
    let mut head = [0u8; 14];
    encode_header(&mut head, false, 0xf2, 0, None);
    assert_eq!(head[0], 0x02);
    encode_header(&mut head, true, 0x9, 0, None);
    assert_eq!(head[0], 0x89);
}

#[test]
fn refuses_a_control_payload_over_125_bytes() {
    assert!(encode_frame(true, 0x9, &[0; 125], None).is_ok());
    for op in [0x8, 0x9, 0xa] {
        let err = encode_frame(true, op, &[0; 126], None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ControlTooLong);
        assert_eq!(
            check_payload(op, 126).unwrap_err().kind,
            ErrorKind::ControlTooLong
        );
    }
    assert!(check_payload(0x2, 1 << 20).is_ok());
}

#[test]
fn round_trips_through_parse_frame() {
    let mut rng = XorShift::new(5);
    for len in [0usize, 1, 3, 125, 126, 127, 1000, 65535, 65536, 70000] {
        let payload = rng.bytes(len);
        let key = rng.one_in(2).then(|| [rng.next_u64() as u8, 2, 3, 4]);
        let fin = rng.one_in(2);
        let mut wire = encode_frame(fin, 0x2, &payload, key).unwrap();
        let parsed = parse_frame(&mut wire, &DecodeOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            (parsed.fin, parsed.opcode, parsed.consumed),
            (fin, 2, wire.len())
        );
        assert_eq!(
            &wire[parsed.payload_start..],
            payload.as_slice(),
            "length {len}"
        );
    }
}

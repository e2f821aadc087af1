//! Frame header decoding and `parse_frame`: RFC 6455 §5.2's layout, §5.7's examples, and every
//! check in DaloyJS's order.

mod common;

use common::{frame, raw_frame};
use daloy_ws_native::error::{ErrorKind, ProtocolError};
use daloy_ws_native::header::{
    decode_header, parse_frame, DecodeOptions, FrameHeader, ParsedFrame, MAX_SAFE_LENGTH,
};

fn any() -> DecodeOptions {
    DecodeOptions::default()
}

fn decode(buf: &[u8], opts: DecodeOptions) -> Result<Option<FrameHeader>, ErrorKind> {
    decode_header(buf, &opts).map_err(|e| e.kind)
}

#[test]
fn decodes_the_rfc_unmasked_text_header() {
    let h = decode(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], any())
        .unwrap()
        .unwrap();
    assert_eq!(
        h,
        FrameHeader {
            fin: true,
            opcode: 1,
            masked: false,
            mask: [0; 4],
            payload_len: 5,
            header_len: 2,
            rsv1: false
        }
    );
}

#[test]
fn decodes_the_rfc_masked_text_header() {
    let h = decode(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f], any())
        .unwrap()
        .unwrap();
    assert_eq!(
        h,
        FrameHeader {
            fin: true,
            opcode: 1,
            masked: true,
            mask: [0x37, 0xfa, 0x21, 0x3d],
            payload_len: 5,
            header_len: 6,
            rsv1: false
        }
    );
}

#[test]
fn decodes_16_and_64_bit_lengths() {
    let h = decode(&[0x82, 0x7e, 0x01, 0x00], any()).unwrap().unwrap();
    assert_eq!((h.payload_len, h.header_len), (256, 4));
    let h = decode(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0], any())
        .unwrap()
        .unwrap();
    assert_eq!((h.payload_len, h.header_len), (65536, 10));
    let h = decode(
        &[
            0x02, 0xff, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4,
        ],
        any(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        h,
        FrameHeader {
            fin: false,
            opcode: 2,
            masked: true,
            mask: [1, 2, 3, 4],
            payload_len: MAX_SAFE_LENGTH,
            header_len: 14,
            rsv1: false
        }
    );
}

#[test]
fn needs_more_bytes_until_the_header_is_complete() {
    let full = [0x82u8, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6];
    for len in 0..full.len() {
        assert_eq!(decode(&full[..len], any()), Ok(None), "{len} bytes");
    }
    assert!(decode(&full, any()).unwrap().is_some());
}

#[test]
fn rejects_reserved_bits_first() {
    // RSV1 with an unknown opcode, FIN clear: RSV is reported.
    assert_eq!(
        decode(&[0x4b, 0xff], any()),
        Err(ErrorKind::ReservedBits { rsv1: true })
    );
    assert_eq!(
        decode(&[0x20, 0x00], any()),
        Err(ErrorKind::ReservedBits { rsv1: false })
    );
    assert_eq!(
        decode(&[0x10, 0x00], any()),
        Err(ErrorKind::ReservedBits { rsv1: false })
    );
    assert_eq!(
        decode(&[0x70, 0x00], any()),
        Err(ErrorKind::ReservedBits { rsv1: true })
    );
}

#[test]
fn rejects_a_control_frame_with_fin_clear() {
    assert_eq!(
        decode(&[0x09, 0x00], any()),
        Err(ErrorKind::FragmentedControl)
    );
    // FIN comes before the length and the opcode.
    assert_eq!(
        decode(&[0x0b, 0x7f], any()),
        Err(ErrorKind::FragmentedControl)
    );
}

#[test]
fn rejects_a_control_frame_over_125_bytes_from_its_7_bit_length() {
    assert_eq!(decode(&[0x89, 0x7e], any()), Err(ErrorKind::ControlTooLong));
    assert_eq!(decode(&[0x88, 0x7f], any()), Err(ErrorKind::ControlTooLong));
    // The length comes before the opcode.
    assert_eq!(decode(&[0x8f, 0x7e], any()), Err(ErrorKind::ControlTooLong));
    assert!(decode(&[0x89, 0x7d], any()).unwrap().is_some());
}

#[test]
fn rejects_unknown_opcodes_with_their_value() {
    for op in 0xbu8..=0xf {
        let err = decode_header(&[0x80 | op, 0x00], &any()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownControlOpcode(op));
        assert_eq!(err.to_string(), format!("Unknown control opcode 0x{op:x}"));
    }
    for op in 0x3u8..=0x7 {
        let err = decode_header(&[0x80 | op, 0x00], &any()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownDataOpcode(op));
        assert_eq!(err.to_string(), format!("Unknown data opcode 0x{op:x}"));
    }
}

#[test]
fn rejects_the_opcode_before_waiting_for_the_extended_length() {
    assert_eq!(
        decode(&[0x83, 0x7f], any()),
        Err(ErrorKind::UnknownDataOpcode(3))
    );
}

#[test]
fn rejects_a_64_bit_length_above_max_safe_integer() {
    let mut buf = [0x82u8, 0x7f, 0, 0x20, 0, 0, 0, 0, 0, 0];
    assert_eq!(decode(&buf, any()), Err(ErrorKind::LengthOverflow));
    buf[2] = 0x80;
    buf[3] = 0;
    assert_eq!(decode(&buf, any()), Err(ErrorKind::LengthOverflow));
    let err = decode_header(&buf, &any()).unwrap_err();
    assert_eq!(
        (err.to_string().as_str(), err.close_code()),
        ("Frame payload exceeds Number.MAX_SAFE_INTEGER", 1009)
    );
}

#[test]
fn rejects_a_declared_data_length_over_max_payload_before_the_mask() {
    let opts = DecodeOptions {
        require_mask: true,
        reject_mask: false,
        max_payload: Some(255),
        allow_rsv1: false,
    };
    // Unmasked and without its payload: the length rule still comes first.
    assert_eq!(
        decode(&[0x82, 0x7e, 0x01, 0x00], opts),
        Err(ErrorKind::PayloadTooLarge {
            limit: 255,
            actual: 256
        })
    );
    assert_eq!(
        decode(&[0x82, 0xfe, 0x01, 0x00], opts),
        Err(ErrorKind::PayloadTooLarge {
            limit: 255,
            actual: 256
        })
    );
    assert_eq!(decode(&[0x82, 0xfe, 0x00, 0xff], opts), Ok(None));
    let err = decode_header(&[0x82, 0x7e, 0x01, 0x00], &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "WebSocket message exceeds maxPayloadLength (256 > 255)"
    );
    assert_eq!(err.size_limit(), Some((255, 256)));
}

#[test]
fn does_not_apply_max_payload_to_control_frames() {
    let opts = DecodeOptions {
        require_mask: false,
        reject_mask: false,
        max_payload: Some(0),
        allow_rsv1: false,
    };
    assert!(decode(&[0x89, 0x05], opts).unwrap().is_some());
    assert_eq!(
        decode(&[0x81, 0x01], opts),
        Err(ErrorKind::PayloadTooLarge {
            limit: 0,
            actual: 1
        })
    );
    assert!(decode(&[0x81, 0x00], opts).unwrap().is_some());
}

#[test]
fn rejects_an_unmasked_frame_when_required_before_the_payload() {
    let opts = DecodeOptions {
        require_mask: true,
        reject_mask: false,
        max_payload: None,
        allow_rsv1: false,
    };
    assert_eq!(decode(&[0x81, 0x05], opts), Err(ErrorKind::UnmaskedFrame));
    assert_eq!(decode(&[0x89, 0x00], opts), Err(ErrorKind::UnmaskedFrame));
    assert_eq!(decode(&[0x81, 0x85, 1, 2, 3], opts), Ok(None));
}

#[test]
fn rejects_a_masked_frame_when_the_peer_is_a_server_before_the_key() {
    let opts = DecodeOptions {
        reject_mask: true,
        ..DecodeOptions::default()
    };
    assert_eq!(decode(&[0x81, 0x85], opts), Err(ErrorKind::MaskedFrame));
    assert_eq!(decode(&[0x8a, 0x80], opts), Err(ErrorKind::MaskedFrame));
    assert!(decode(&[0x81, 0x05], opts).unwrap().is_some());
}

#[test]
fn parses_and_unmasks_a_whole_frame_in_place() {
    let mut buf = vec![
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0xee,
    ];
    let parsed = parse_frame(&mut buf, &any()).unwrap().unwrap();
    assert_eq!(
        parsed,
        ParsedFrame {
            fin: true,
            opcode: 1,
            payload_start: 6,
            payload_len: 5,
            consumed: 11
        }
    );
    assert_eq!(&buf[6..11], b"Hello");
    assert_eq!(buf[11], 0xee, "bytes after the frame are untouched");
}

#[test]
fn parses_the_rfc_fragments_one_at_a_time() {
    let mut buf = vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let first = parse_frame(&mut buf, &any()).unwrap().unwrap();
    assert_eq!(
        first,
        ParsedFrame {
            fin: false,
            opcode: 1,
            payload_start: 2,
            payload_len: 3,
            consumed: 5
        }
    );
    let second = parse_frame(&mut buf[5..], &any()).unwrap().unwrap();
    assert_eq!(
        second,
        ParsedFrame {
            fin: true,
            opcode: 0,
            payload_start: 2,
            payload_len: 2,
            consumed: 4
        }
    );
}

#[test]
fn parse_frame_needs_the_whole_payload() {
    let whole = frame(true, 0x2, &[5; 300], Some([1, 2, 3, 4]));
    for len in 0..whole.len() {
        let mut buf = whole[..len].to_vec();
        assert_eq!(parse_frame(&mut buf, &any()), Ok(None), "{len} bytes");
        assert_eq!(buf, &whole[..len], "an incomplete frame is left as it was");
    }
    let mut buf = whole.clone();
    let parsed = parse_frame(&mut buf, &any()).unwrap().unwrap();
    assert_eq!(&buf[parsed.payload_start..parsed.consumed], &[5; 300]);
}

#[test]
fn parse_frame_reports_header_errors() {
    let mut buf = raw_frame(0xc2, b"x", None);
    assert_eq!(
        parse_frame(&mut buf, &any()),
        Err(ProtocolError::new(ErrorKind::ReservedBits { rsv1: true }))
    );
}

#[test]
fn parse_frame_waits_for_a_huge_declared_payload() {
    let mut buf = [
        0x82, 0x7f, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3,
    ];
    assert_eq!(parse_frame(&mut buf, &any()), Ok(None));
}

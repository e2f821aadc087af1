//! `decode_header` and `parse_frame` on arbitrary bytes: no panic, and the two agree.
#![no_main]

use daloy_ws_native::header::{decode_header, parse_frame, DecodeOptions, MAX_SAFE_LENGTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&config, buf)) = data.split_first() else {
        return;
    };
    let opts = DecodeOptions {
        require_mask: config & 1 != 0,
        // Shares a bit with the limit of mode 1: both vary either way.
        reject_mask: config & 0x80 != 0,
        max_payload: match (config >> 1) & 3 {
            0 => None,
            1 => Some(u64::from(config >> 3)),
            2 => Some(65_535),
            _ => Some(MAX_SAFE_LENGTH),
        },
        allow_rsv1: config & 0x80 != 0,
    };
    let decoded = decode_header(buf, &opts);
    let mut copy = buf.to_vec();
    let parsed = parse_frame(&mut copy, &opts);
    match decoded {
        Err(err) => assert_eq!(parsed, Err(err)),
        Ok(None) => {
            assert_eq!(parsed, Ok(None));
            assert!(buf.len() < 14, "a 14-byte prefix always decides the header");
        }
        Ok(Some(h)) => {
            assert!(h.header_len <= buf.len() && (2..=14).contains(&h.header_len));
            assert!(h.payload_len <= MAX_SAFE_LENGTH);
            assert_eq!(decode_header(&buf[..h.header_len], &opts), Ok(Some(h)));
            if h.opcode & 0x08 != 0 {
                assert!(h.fin && h.payload_len <= 125);
            } else if let Some(limit) = opts.max_payload {
                assert!(h.payload_len <= limit);
            }
            if opts.require_mask {
                assert!(h.masked);
            }
            if opts.reject_mask {
                assert!(!h.masked);
            }
            match parsed {
                Ok(None) => assert!(h.header_len as u64 + h.payload_len > buf.len() as u64),
                Ok(Some(p)) => {
                    assert_eq!(p.consumed as u64, h.header_len as u64 + h.payload_len);
                    assert_eq!(
                        (p.fin, p.opcode, p.payload_start),
                        (h.fin, h.opcode, h.header_len)
                    );
                    assert_eq!(&copy[..p.payload_start], &buf[..p.payload_start]);
                    assert_eq!(&copy[p.consumed..], &buf[p.consumed..]);
                    for (i, (&unmasked, &wire)) in copy[p.payload_start..p.consumed]
                        .iter()
                        .zip(&buf[p.payload_start..])
                        .enumerate()
                    {
                        assert_eq!(unmasked, wire ^ if h.masked { h.mask[i % 4] } else { 0 });
                    }
                }
                Err(err) => panic!("parse_frame failed where decode_header did not: {err}"),
            }
        }
    }
});

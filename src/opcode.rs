//! Frame opcodes (RFC 6455 §5.2, §11.8).

/// The opcode of a frame: what its payload means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: the next fragment of a fragmented message.
    Continuation = 0x0,
    /// 0x1: the first frame of a UTF-8 text message.
    Text = 0x1,
    /// 0x2: the first frame of a binary message.
    Binary = 0x2,
    /// 0x8: the closing handshake.
    Close = 0x8,
    /// 0x9: a keep-alive or liveness probe the peer must answer with a PONG.
    Ping = 0x9,
    /// 0xa: the answer to a PING, or an unsolicited heartbeat.
    Pong = 0xa,
}

impl OpCode {
    /// The opcode for the low four bits of a frame's first byte, or `None` for the reserved
    /// values 0x3 to 0x7 and 0xb to 0xf (and anything above 0xf).
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        match value {
            0x0 => Some(OpCode::Continuation),
            0x1 => Some(OpCode::Text),
            0x2 => Some(OpCode::Binary),
            0x8 => Some(OpCode::Close),
            0x9 => Some(OpCode::Ping),
            0xa => Some(OpCode::Pong),
            _ => None,
        }
    }

    /// Whether this is a control opcode. RFC 6455 §5.5: control frames are identified by
    /// opcodes where the most significant bit of the opcode is 1.
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }

    /// The opcode's value on the wire.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

impl From<OpCode> for u8 {
    fn from(op: OpCode) -> u8 {
        op as u8
    }
}

#[cfg(test)]
mod tests {
    use super::OpCode;

    #[test]
    fn round_trips_every_defined_opcode() {
        for op in [
            OpCode::Continuation,
            OpCode::Text,
            OpCode::Binary,
            OpCode::Close,
            OpCode::Ping,
            OpCode::Pong,
        ] {
            assert_eq!(OpCode::from_u8(op.as_u8()), Some(op));
        }
    }

    #[test]
    fn rejects_reserved_opcodes() {
        for value in (0x3..=0x7).chain(0xb..=0xff) {
            assert_eq!(OpCode::from_u8(value), None, "opcode {value:#x}");
        }
    }

    #[test]
    fn tells_control_from_data_opcodes() {
        assert!(!OpCode::Continuation.is_control());
        assert!(!OpCode::Text.is_control());
        assert!(!OpCode::Binary.is_control());
        assert!(OpCode::Close.is_control());
        assert!(OpCode::Ping.is_control());
        assert!(OpCode::Pong.is_control());
    }
}

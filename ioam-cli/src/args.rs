//! Number arguments of the subcommands: decimal or `0x` hex, `_` allowed as
//! a digit separator, refused with the width that was exceeded.

/// Parses a number in decimal or `0x` hex (up to 64 bits).
pub fn parse_num(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    };
    r.map_err(|e| format!("`{s}` is not a number: {e}"))
}

/// [`parse_num`], refused above 32 bits.
pub fn parse_u32(s: &str) -> Result<u32, String> {
    let v = parse_num(s)?;
    u32::try_from(v).map_err(|_| format!("{v} does not fit in 32 bits"))
}

/// [`parse_num`], refused above 16 bits.
pub fn parse_u16(s: &str) -> Result<u16, String> {
    let v = parse_num(s)?;
    u16::try_from(v).map_err(|_| format!("{v} does not fit in 16 bits"))
}

/// [`parse_num`], refused above 24 bits: an opaque state Schema ID
/// (RFC 9197 §4.4.2), for every subcommand alike.
pub fn parse_schema_id(s: &str) -> Result<u32, String> {
    let v = parse_num(s)?;
    u32::try_from(v)
        .ok()
        .filter(|&v| v <= 0x00ff_ffff)
        .ok_or_else(|| format!("{v:#x} does not fit in the 24 bits of a Schema ID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_hex_separators_and_widths() {
        assert_eq!(parse_num("1_000"), Ok(1000));
        assert_eq!(parse_num(" 0x434c54 "), Ok(0x434c54));
        assert_eq!(parse_num("0XFF_FF"), Ok(0xffff));
        assert_eq!(parse_u16("0xffff"), Ok(0xffff));
        assert_eq!(
            parse_u16("65536"),
            Err("65536 does not fit in 16 bits".into())
        );
        assert_eq!(
            parse_u32("0x1_0000_0000"),
            Err("4294967296 does not fit in 32 bits".into())
        );
        assert!(parse_num("0xg")
            .unwrap_err()
            .starts_with("`0xg` is not a number"));
        assert!(parse_num("").is_err());
        assert_eq!(parse_schema_id("0xffffff"), Ok(0xff_ffff));
        assert_eq!(
            parse_schema_id("0x1000000"),
            Err("0x1000000 does not fit in the 24 bits of a Schema ID".into())
        );
    }
}

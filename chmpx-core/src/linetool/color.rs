//! The escape sequences of the console's output (256-colour palette entries 0-7), and
//! `-nocolor` which leaves the text plain.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Black = 0,
    Red = 1,
    Green = 2,
    Yellow = 3,
    Blue = 4,
    Magenta = 5,
    Cyan = 6,
    White = 7,
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const BLINK: &str = "\x1b[5m";

fn fg(c: Color) -> String {
    format!("\x1b[38;5;{}m", c as u8)
}

fn bg(c: Color) -> String {
    // White text on a coloured background, black text on white.
    let text = if c == Color::White {
        Color::Black
    } else {
        Color::White
    };
    format!("{}\x1b[48;5;{}m", fg(text), c as u8)
}

/// Paints text, or not (`-nocolor`).
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    pub enabled: bool,
}

impl Painter {
    fn paint(&self, s: &str, c: Color, background: bool, bold: bool, blink: bool) -> String {
        if !self.enabled {
            return s.to_string();
        }
        let mut out = String::new();
        if bold {
            out.push_str(BOLD);
        }
        if blink {
            out.push_str(BLINK);
        }
        out.push_str(&if background { bg(c) } else { fg(c) });
        out.push_str(s);
        out.push_str(RESET);
        out
    }

    /// Coloured text.
    pub fn fg(&self, s: &str, c: Color) -> String {
        self.paint(s, c, false, false, false)
    }

    /// Text on a coloured background.
    pub fn bg(&self, s: &str, c: Color) -> String {
        self.paint(s, c, true, false, false)
    }

    /// Bold blinking text on a coloured background (what the check marks as wrong).
    pub fn alert(&self, s: &str, c: Color) -> String {
        self.paint(s, c, true, true, true)
    }

    pub fn bold(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        format!("{BOLD}{s}{RESET}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences() {
        let p = Painter { enabled: true };
        assert_eq!(p.fg("UP", Color::Green), "\x1b[38;5;2mUP\x1b[0m");
        assert_eq!(
            p.alert("ERR", Color::Red),
            "\x1b[1m\x1b[5m\x1b[38;5;7m\x1b[48;5;1mERR\x1b[0m"
        );
        assert_eq!(p.bg("x", Color::White), "\x1b[38;5;0m\x1b[48;5;7mx\x1b[0m");
        let plain = Painter { enabled: false };
        assert_eq!(plain.alert("ERR", Color::Red), "ERR");
        assert_eq!(plain.bold("b"), "b");
    }
}

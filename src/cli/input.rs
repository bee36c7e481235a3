//! Where command-line JSON comes from: inline text, a file, or standard input.

use std::io::Read;

/// Reads a `--pattern`/`--event` style argument: `-` is standard input, text that
/// starts with `{` or `[` is inline JSON, anything else is a file path.
pub fn read_json_arg(arg: &str, what: &str) -> Result<String, String> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read {what} from standard input: {e}"))?;
        return Ok(text);
    }
    let trimmed = arg.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return Ok(arg.to_string());
    }
    std::fs::read_to_string(arg).map_err(|e| {
        format!("cannot read {what} file \"{arg}\": {e} (give a file path, inline JSON starting with '{{', or - for standard input)")
    })
}

/// Opens a file argument, or standard input for `-`, for reading line by line.
pub fn open_lines(arg: &str) -> Result<Box<dyn std::io::BufRead>, String> {
    if arg == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(arg).map_err(|e| format!("cannot read \"{arg}\": {e}"))?;
    Ok(Box::new(std::io::BufReader::new(file)))
}

//! Tables out as CSV and XLSX: the monitoring and attendee exports managers open in Excel.

/// A header row and data rows of text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns written to XLSX as numbers (so sums and charts work); all others stay text, which
    /// keeps phone numbers and codes from turning into `1.38E+10`.
    pub numeric: Vec<usize>,
}

impl Table {
    /// UTF-8 CSV with a byte-order mark: without it Excel on a Chinese Windows reads the
    /// characters as GBK and shows mojibake.
    pub fn to_csv(&self) -> Result<Vec<u8>, String> {
        let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        writer.write_record(&self.headers).map_err(|e| e.to_string())?;
        for row in &self.rows {
            let cells: Vec<_> = row.iter().enumerate().map(|(c, cell)| self.csv_cell(c, cell)).collect();
            writer.write_record(cells.iter().map(|c| c.as_bytes())).map_err(|e| e.to_string())?;
        }
        writer.into_inner().map_err(|e| e.to_string())
    }

    /// A cell a spreadsheet will not run: text that starts with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return is a formula to Excel and WPS (`=HYPERLINK(…)` from a public registration,
    /// `+cmd|…`), so it gets a leading `'` (OWASP's CSV-injection rule). Numbers of a numeric
    /// column stay numbers (`-12.5`).
    fn csv_cell<'a>(&self, column: usize, cell: &'a str) -> std::borrow::Cow<'a, str> {
        let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let number = self.numeric.contains(&column) && cell.parse::<f64>().is_ok();
        if formula && !number { format!("'{cell}").into() } else { cell.into() }
    }

    pub fn to_xlsx(&self, sheet: &str) -> Result<Vec<u8>, String> {
        workbook(&[(sheet, self)])
    }

    fn write(&self, ws: &mut rust_xlsxwriter::Worksheet) -> Result<(), rust_xlsxwriter::XlsxError> {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (c, header) in self.headers.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, col, header, &bold)?;
            ws.set_column_width(col, 18)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let line = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, value) in row.iter().enumerate() {
                let col = u16::try_from(c).unwrap_or(u16::MAX);
                match value.parse::<f64>() {
                    Ok(number) if self.numeric.contains(&c) => ws.write_number(line, col, number)?,
                    _ => ws.write_string(line, col, value)?,
                };
            }
        }
        Ok(())
    }
}

/// One workbook of several named sheets.
pub fn workbook(sheets: &[(&str, &Table)]) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, table) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).map_err(|e| e.to_string())?;
        table.write(ws).map_err(|e| e.to_string())?;
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_would_be_formulas_are_neutralised() -> Result<(), String> {
        let table = Table {
            headers: vec!["name".into(), "amount".into()],
            rows: vec![
                vec!["=HYPERLINK(\"http://x\",\"点我\")".into(), "-12.5".into()],
                vec!["+cmd|' /C calc'!A0".into(), "3".into()],
                vec!["@SUM(1+1)".into(), "-1".into()],
                vec!["-2+3".into(), "=1+1".into()],
                vec!["\t=1".into(), "0".into()],
                vec!["张三".into(), "4".into()],
            ],
            numeric: vec![1],
        };
        let csv = String::from_utf8(table.to_csv()?).map_err(|e| e.to_string())?;
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines,
            [
                "name,amount",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",-12.5",
                "'+cmd|' /C calc'!A0,3",
                "'@SUM(1+1),-1",
                "'-2+3,'=1+1",
                "'\t=1,0",
                "张三,4",
            ]
        );
        Ok(())
    }

    #[test]
    fn csv_has_a_bom_and_quotes_what_needs_it() -> Result<(), String> {
        let t = Table {
            headers: vec!["姓名".into(), "备注".into()],
            rows: vec![vec!["陈".into(), "a,b".into()]],
            numeric: Vec::new(),
        };
        let csv = t.to_csv()?;
        assert_eq!(&csv[..3], &[0xEF, 0xBB, 0xBF]);
        assert_eq!(String::from_utf8_lossy(&csv[3..]), "姓名,备注\n陈,\"a,b\"\n");
        let xlsx = t.to_xlsx("名单")?;
        assert_eq!(&xlsx[..2], b"PK", "an XLSX is a zip");
        Ok(())
    }
}

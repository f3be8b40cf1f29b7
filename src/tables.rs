//! Tables out as CSV and XLSX: the monitoring and attendee exports managers open in Excel.

/// A header row and data rows of text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// UTF-8 CSV with a byte-order mark: without it Excel on a Chinese Windows reads the
    /// characters as GBK and shows mojibake.
    pub fn to_csv(&self) -> Result<Vec<u8>, String> {
        let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        writer.write_record(&self.headers).map_err(|e| e.to_string())?;
        for row in &self.rows {
            writer.write_record(row).map_err(|e| e.to_string())?;
        }
        writer.into_inner().map_err(|e| e.to_string())
    }

    pub fn to_xlsx(&self, sheet: &str) -> Result<Vec<u8>, String> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = book.add_worksheet();
        ws.set_name(sheet).map_err(|e| e.to_string())?;
        for (c, header) in self.headers.iter().enumerate() {
            let col = u16::try_from(c).map_err(|e| e.to_string())?;
            ws.write_string_with_format(0, col, header, &bold).map_err(|e| e.to_string())?;
            ws.set_column_width(col, 18).map_err(|e| e.to_string())?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let line = u32::try_from(r + 1).map_err(|e| e.to_string())?;
            for (c, value) in row.iter().enumerate() {
                ws.write_string(line, u16::try_from(c).map_err(|e| e.to_string())?, value)
                    .map_err(|e| e.to_string())?;
            }
        }
        book.save_to_buffer().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_and_quotes_what_needs_it() -> Result<(), String> {
        let t = Table { headers: vec!["姓名".into(), "备注".into()], rows: vec![vec!["陈".into(), "a,b".into()]] };
        let csv = t.to_csv()?;
        assert_eq!(&csv[..3], &[0xEF, 0xBB, 0xBF]);
        assert_eq!(String::from_utf8_lossy(&csv[3..]), "姓名,备注\n陈,\"a,b\"\n");
        let xlsx = t.to_xlsx("名单")?;
        assert_eq!(&xlsx[..2], b"PK", "an XLSX is a zip");
        Ok(())
    }
}

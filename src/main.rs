fn main() -> anyhow::Result<()> {
    outreach::cli::main()
}

// include_dir! does not tell cargo which files it read; without this an edit under static/
// would not reach the embedded copy until some other change forced a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=static");
}

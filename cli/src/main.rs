fn main() {
    println!("stemcheck: under construction");
}

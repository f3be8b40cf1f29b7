//! A round robin of connections in front of several app processes, as a TCP load balancer (LVS,
//! nginx's `stream`) spreads a phone fleet's keep-alive connections: each new connection goes to
//! the next replica, and all its requests with it. Plain threads and `std::io::copy`, two per
//! connection: a measuring aid for a few dozen connections, not a proxy to deploy.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

/// Starts the round robin on a free local port in front of `backends` (`host:port`); gives its
/// base URL. It runs until the driver exits.
pub fn start(backends: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the round robin");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    thread::Builder::new()
        .name("round-robin".to_owned())
        .spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { continue };
                let backend = backends[n % backends.len()].clone();
                let _ = thread::Builder::new().name("rr-conn".to_owned()).spawn(move || relay(client, &backend));
            }
        })
        .expect("start the round robin");
    base
}

fn relay(client: TcpStream, backend: &str) -> io::Result<()> {
    let server = TcpStream::connect(backend)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut client_in, mut server_out) = (client.try_clone()?, server.try_clone()?);
    let upstream = thread::Builder::new().name("rr-up".to_owned()).spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    })?;
    let (mut server_in, mut client_out) = (server, client);
    let _ = io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = upstream.join();
    Ok(())
}

// The reference for bench/fleet.mjs: a gorilla/websocket echo handler, the shape
// of the seed's relay, holding as many connections as the fleet opens. Each
// connection is one goroutine reading and writing back every message.
// Built offline from Debian's packages (bench/run.sh fleet does it):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/sightline-gorilla-echo bench/gorilla/main.go
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(kind, data); err != nil {
			return
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to serve on")
	flag.Parse()
	// Stopped with SIGTERM by the benchmark: a clean exit, as the relay's.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() { <-stop; os.Exit(0) }()
	http.HandleFunc("/", echo)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	log.Fatal(http.ListenAndServe(*listen, nil))
}

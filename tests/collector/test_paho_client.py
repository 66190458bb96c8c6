"""The buffered socket paho reads through: its reads are the socket's, chunk boundaries and all."""

import socket

import pytest

from collector import paho_client
from collector.paho_client import BufferedSocket


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    yield BufferedSocket(ours), theirs
    ours.close()
    theirs.close()


def test_small_reads_come_from_one_chunk(pair) -> None:
    buffered, peer = pair
    peer.sendall(b"\x30\x05hello")
    assert buffered.recv(1) == b"\x30"
    assert buffered.pending() == 6
    assert buffered.recv(1) == b"\x05"
    assert buffered.recv(5) == b"hello"
    assert buffered.pending() == 0


def test_a_read_stops_at_the_chunk_and_goes_on_with_the_next(pair, monkeypatch) -> None:
    monkeypatch.setattr(paho_client, "READ_BYTES", 4)
    buffered, peer = pair
    peer.sendall(b"abcdefgh")
    assert buffered.recv(6) == b"abcd"
    assert buffered.recv(6) == b"efgh"


def test_nothing_there_and_the_end_are_the_sockets_own_answers(pair) -> None:
    buffered, peer = pair
    with pytest.raises(BlockingIOError):
        buffered.recv(1)
    peer.sendall(b"x")
    peer.close()
    assert buffered.recv(10) == b"x"
    assert buffered.recv(10) == b""


def test_writes_and_the_descriptor_are_the_sockets(pair) -> None:
    buffered, peer = pair
    assert buffered.send(b"ping") == 4
    assert peer.recv(4) == b"ping"
    assert buffered.fileno() == buffered._sock.fileno()

// Remote sound plays from hidden <audio> elements whatever the stage shows: you hear
// everyone, including people on another page of the grid.
import { $ } from "./dom.js";
import { LK, onRoom, session } from "./session.js";

const sink = $("audio-sink");

onRoom((room) => {
  sink.replaceChildren();
  const isAudio = (track) => track.kind === LK.Track.Kind.Audio;
  room.on(LK.RoomEvent.TrackSubscribed, (track) => isAudio(track) && sink.append(track.attach()));
  room.on(LK.RoomEvent.TrackUnsubscribed, (track) => isAudio(track) && track.detach().forEach((e) => e.remove()));
  room.on(LK.RoomEvent.Disconnected, () => room === session.room && sink.replaceChildren());
});
